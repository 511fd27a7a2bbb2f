/* mynumber-sim: command line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mn_err.h"
#include "sim.h"
#include "sim_ble.h"
#include "sim_wallet.h"

#define BAD_PROFILE "not card, android, iphone, juki or wallet"

static volatile sig_atomic_t stop_flag;

static const char usage_text[] =
    "usage:\n"
    "  mynumber-sim init [options] DIR    make a test card directory\n"
    "      --profile card|android|iphone|juki   (default card)\n"
    "      --auth-pin 4DIGITS   --sign-pin 6-16xA-Z0-9   --info-pin 4DIGITS\n"
    "      --ca-from OTHERDIR   reuse the auth/sign CAs of another card directory\n"
    "      --expired            auth and sign certificates already expired\n"
    "      --serial HEX         leaf certificate serial (default random)\n"
    "      --cn TEXT            CN of the auth certificate (default random)\n"
    "      --profile wallet: --mso-valid-days N (30)  --mso-expired\n"
    "  mynumber-sim run [options] DIR     be the card (connects to pcscd's vpcd)\n"
    "      --port N (35963)  --host ADDR (127.0.0.1; loopback only)\n"
    "      --state DIR (DIR/state)  --profile P (override card.conf)\n"
    "      --drop-after N  --delay-ms N  --fault INS=SW (repeatable)\n"
    "      --apdu-log FILE  --connect-timeout S (10)  -v\n"
    "      wallet (DIR from init --profile wallet): --handover static|tnep (static)\n"
    "      --biometric ok|fail (ok)  --absent-after N (phone leaves after N mdoc APDUs)\n"
    "      --device-auth signature|mac (signature: deviceSignature; mac: deviceMac)\n"
    "      --record FILE (save each DeviceResponse)  --replay FILE (send it instead)\n"
    "      --doctype NAME (present another document type for the request)\n"
    "      --carrier nfc|ble|both (nfc): what the Handover Select offers; ble: only BLE,\n"
    "        LE role central, no UUID (like Apple Wallet); ble and both need --handover tnep\n"
    "      --ble-bus ADDRESS  be org.bluez on this D-Bus bus (fake BlueZ + the phone as BLE\n"
    "        central; e.g. unix:path=/tmp/x/bus)  --ble-mtu N (185)  --ble-timeout S (60)\n"
    "      --ble-fault none|ident|disconnect|silent|no-adapter|powered-off\n"
    "  mynumber-sim crl [options] DIR OUT  write a test CRL issued by DIR's CA\n"
    "      --revoke HEX|self (repeatable)   --entries N (random 8-byte serials)\n"
    "      --crl-number N (1)  --this-update-days D (-1)  --next-update-days D (7)\n"
    "      --delta BASE (a delta CRL on CRL number BASE)  --remove SERIAL|self (removeFromCRL)\n"
    "      --ca auth|sign (auth)  --signer-dir OTHERDIR  --der (default PEM)\n"
    "  mynumber-sim --help | --version\n";

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("mynumber-sim: ", stderr);
	fprintf(stderr, "%s: %s\n", arg, fmt);
	fputs("Try 'mynumber-sim --help'.\n", stderr);
	return 1;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return MN_ERR_INVALID_ARG;
	*out = v;
	return MN_OK;
}

static int hex_value(const char *s, size_t min, size_t max, unsigned long *out)
{
	size_t n = strlen(s), i;
	unsigned long v = 0;

	if (n < min || n > max)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
		        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
		                                 : -1;
		if (d < 0)
			return MN_ERR_INVALID_ARG;
		v = v << 4 | (unsigned long)d;
	}
	*out = v;
	return MN_OK;
}

/* INS=SW: INS 1-2 hex digits, SW exactly 4 */
static int parse_fault(const char *arg, struct sim_fault *f)
{
	char ins[3];
	const char *eq = strchr(arg, '=');
	unsigned long iv, sv;
	size_t n;

	if (eq == NULL || (n = (size_t)(eq - arg)) < 1 || n > 2)
		return MN_ERR_INVALID_ARG;
	memcpy(ins, arg, n);
	ins[n] = '\0';
	if (hex_value(ins, 1, 2, &iv) != MN_OK || hex_value(eq + 1, 4, 4, &sv) != MN_OK)
		return MN_ERR_INVALID_ARG;
	f->ins = (uint8_t)iv;
	f->sw = (uint16_t)sv;
	return MN_OK;
}

static int check_serial(const char *s)
{
	size_t n = strlen(s), i, lead = 0;

	if (n < 1 || n > 40)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return MN_ERR_INVALID_ARG;
		if (s[i] != '0')
			lead = 1;
	}
	return lead ? MN_OK : MN_ERR_INVALID_ARG; /* a serial is positive */
}

static int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"auth-pin", required_argument, NULL, 'a'},
	    {"sign-pin", required_argument, NULL, 's'},
	    {"info-pin", required_argument, NULL, 'i'},
	    {"ca-from", required_argument, NULL, 'c'},
	    {"expired", no_argument, NULL, 'e'},
	    {"serial", required_argument, NULL, 'n'},
	    {"cn", required_argument, NULL, 'N'},
	    {"mso-valid-days", required_argument, NULL, 'V'},
	    {"mso-expired", no_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sim_wallet_init_opts wo = {.valid_days = 30};
	int wallet = 0;
	struct sim_init_opts o = {.profile = SIM_PROFILE_CARD,
	                          .pins = {"1234", "SIGNPASS1", "5678"}};
	enum sim_pin_id id;
	size_t cn_len;
	int ch, i;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			wallet = strcmp(optarg, "wallet") == 0;
			if (!wallet && sim_profile_parse(optarg, &o.profile) != MN_OK)
				return usage_error(BAD_PROFILE, "--profile");
			break;
		case 'V':
			if (parse_long(optarg, -36500, 36500, &wo.valid_days) != MN_OK)
				return usage_error("must be -36500..36500 days",
				                   "--mso-valid-days");
			break;
		case 'X':
			wo.expired = 1;
			break;
		case 'a':
		case 's':
		case 'i':
			id = ch == 'a' ? SIM_PIN_AUTH : ch == 's' ? SIM_PIN_SIGN : SIM_PIN_INFO;
			o.pins[id] = optarg;
			break;
		case 'c':
			o.ca_from = optarg;
			break;
		case 'e':
			o.expired = 1;
			break;
		case 'n':
			if (check_serial(optarg) != MN_OK)
				return usage_error("must be 1-40 hex digits, not all zero",
				                   "--serial");
			o.serial_hex = optarg;
			break;
		case 'N':
			cn_len = strlen(optarg);
			if (cn_len == 0 || cn_len > 64 ||
			    !mn_utf8_valid((const uint8_t *)optarg, cn_len))
				return usage_error("must be 1-64 bytes of UTF-8", "--cn");
			o.cn = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("bad option", "init");
		}
	}
	for (i = 0; i < SIM_PIN_COUNT; i++) {
		const struct sim_pin_info *pi = sim_pin_info((enum sim_pin_id)i);
		if (sim_pin_check(pi->fmt, (const uint8_t *)o.pins[i], strlen(o.pins[i])) != 0)
			return usage_error(pi->fmt == SIM_PIN_FMT_DIGITS4
			                       ? "must be exactly 4 digits"
			                       : "must be 6-16 characters A-Z 0-9",
			                   i == SIM_PIN_AUTH   ? "--auth-pin"
			                   : i == SIM_PIN_SIGN ? "--sign-pin"
			                                       : "--info-pin");
	}
	if (optind != argc - 1)
		return usage_error("needs exactly one DIR", "init");
	if (wallet) {
		if (sim_wallet_init(argv[optind], &wo) != MN_OK)
			return 1;
		printf("mynumber-sim: test wallet written to %s\n", argv[optind]);
		return 0;
	}
	if (sim_init(argv[optind], &o) != MN_OK)
		return 1;
	printf("mynumber-sim: test card written to %s\n", argv[optind]);
	return 0;
}

static int cmd_crl(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"revoke", required_argument, NULL, 'r'},
	    {"entries", required_argument, NULL, 'e'},
	    {"crl-number", required_argument, NULL, 'n'},
	    {"this-update-days", required_argument, NULL, 't'},
	    {"next-update-days", required_argument, NULL, 'x'},
	    {"ca", required_argument, NULL, 'c'},
	    {"signer-dir", required_argument, NULL, 's'},
	    {"der", no_argument, NULL, 'd'},
	    {"delta", required_argument, NULL, 'D'},
	    {"remove", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sim_crl_opts o = {
	    .crl_number = 1, .this_update_days = -1, .next_update_days = 7, .delta_base = -1};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (o.n_revoke == SIM_CRL_MAX_REVOKE)
				return usage_error("too many serials", "--revoke");
			if (strcmp(optarg, "self") != 0 && check_serial(optarg) != MN_OK)
				return usage_error("must be self or 1-40 hex digits, not all zero",
				                   "--revoke");
			o.revoke[o.n_revoke++] = optarg;
			break;
		case 'e':
			if (parse_long(optarg, 0, SIM_CRL_MAX_ENTRIES, &o.entries) != MN_OK)
				return usage_error("must be 0-10000000", "--entries");
			break;
		case 'n':
			if (parse_long(optarg, 0, LONG_MAX, &o.crl_number) != MN_OK)
				return usage_error("must be a non-negative number", "--crl-number");
			break;
		case 't':
		case 'x':
			if (parse_long(optarg, -36500, 36500,
			               ch == 't' ? &o.this_update_days : &o.next_update_days) != 0)
				return usage_error("must be -36500..36500 days",
				                   ch == 't' ? "--this-update-days"
				                             : "--next-update-days");
			break;
		case 'c':
			if (strcmp(optarg, "auth") != 0 && strcmp(optarg, "sign") != 0)
				return usage_error("not auth or sign", "--ca");
			o.ca = strcmp(optarg, "sign") == 0;
			break;
		case 's':
			o.signer_dir = optarg;
			break;
		case 'd':
			o.der = 1;
			break;
		case 'D':
			if (parse_long(optarg, 0, LONG_MAX, &o.delta_base) != MN_OK)
				return usage_error("must be a non-negative number", "--delta");
			break;
		case 'R':
			if (o.n_remove == SIM_CRL_MAX_REVOKE)
				return usage_error("too many serials", "--remove");
			if (strcmp(optarg, "self") != 0 && check_serial(optarg) != MN_OK)
				return usage_error("must be self or 1-40 hex digits, not all zero",
				                   "--remove");
			o.remove[o.n_remove++] = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("bad option", "crl");
		}
	}
	if (optind != argc - 2)
		return usage_error("needs DIR and OUT", "crl");
	if (sim_crl(argv[optind], argv[optind + 1], &o) != MN_OK)
		return 1;
	printf("mynumber-sim: CRL written to %s\n", argv[optind + 1]);
	return 0;
}

static FILE *open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	if ((f = fdopen(fd, "a")) == NULL)
		close(fd);
	return f;
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return MN_ERR_INTERNAL;
	signal(SIGPIPE, SIG_IGN);
	return MN_OK;
}

struct run_args {
	struct sim_run_opts o;
	struct sim_wallet_run_opts w;
	struct sim_ble_opts b;
	int ble_opt; /* a --ble-* option other than --ble-bus was given */
	int wallet;
	const char *state;
	const char *log_path;
	int profile;
};

static int parse_run(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'P'},
	    {"host", required_argument, NULL, 'H'},
	    {"state", required_argument, NULL, 'S'},
	    {"profile", required_argument, NULL, 'p'},
	    {"drop-after", required_argument, NULL, 'd'},
	    {"delay-ms", required_argument, NULL, 'D'},
	    {"fault", required_argument, NULL, 'f'},
	    {"apdu-log", required_argument, NULL, 'l'},
	    {"connect-timeout", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"handover", required_argument, NULL, 'O'},
	    {"biometric", required_argument, NULL, 'B'},
	    {"absent-after", required_argument, NULL, 'A'},
	    {"device-auth", required_argument, NULL, 'M'},
	    {"record", required_argument, NULL, 'R'},
	    {"replay", required_argument, NULL, 'Y'},
	    {"doctype", required_argument, NULL, 'T'},
	    {"carrier", required_argument, NULL, 'C'},
	    {"ble-bus", required_argument, NULL, 'U'},
	    {"ble-fault", required_argument, NULL, 'F'},
	    {"ble-mtu", required_argument, NULL, 'm'},
	    {"ble-timeout", required_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum sim_profile p;
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'P':
			if (parse_long(optarg, 1, 65535, &v) != MN_OK)
				return usage_error("must be a port number 1-65535", "--port");
			a->o.port = (int)v;
			break;
		case 'H':
			if (!sim_host_is_loopback(optarg))
				return usage_error("must be a numeric loopback address "
				                   "(127.0.0.0/8 or ::1)",
				                   "--host");
			a->o.host = optarg;
			break;
		case 'S':
			a->state = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "wallet") == 0) {
				a->wallet = 1;
				break;
			}
			if (sim_profile_parse(optarg, &p) != MN_OK)
				return usage_error(BAD_PROFILE, "--profile");
			a->profile = (int)p;
			break;
		case 'O':
			if (strcmp(optarg, "static") != 0 && strcmp(optarg, "tnep") != 0)
				return usage_error("not static or tnep", "--handover");
			a->w.tnep = strcmp(optarg, "tnep") == 0;
			break;
		case 'T':
			a->w.doctype = optarg;
			break;
		case 'C':
			if (strcmp(optarg, "nfc") == 0)
				a->w.carrier = SIM_CARRIER_NFC;
			else if (strcmp(optarg, "ble") == 0)
				a->w.carrier = SIM_CARRIER_BLE;
			else if (strcmp(optarg, "both") == 0)
				a->w.carrier = SIM_CARRIER_BOTH;
			else
				return usage_error("not nfc, ble or both", "--carrier");
			break;
		case 'U':
			if (optarg[0] == '\0')
				return usage_error("must be a D-Bus address", "--ble-bus");
			a->b.bus = optarg;
			break;
		case 'F':
			if (sim_ble_fault_parse(optarg, &a->b.fault) != MN_OK)
				return usage_error("not none, ident, disconnect, silent, "
				                   "no-adapter or powered-off",
				                   "--ble-fault");
			a->ble_opt = 1;
			break;
		case 'm':
			if (parse_long(optarg, SIM_BLE_MTU_MIN, SIM_BLE_MTU_MAX, &v) != MN_OK)
				return usage_error("must be 23-517", "--ble-mtu");
			a->b.mtu = (unsigned)v;
			a->ble_opt = 1;
			break;
		case 'W':
			if (parse_long(optarg, 1, 86400, &a->b.timeout) != MN_OK)
				return usage_error("must be 1-86400 seconds", "--ble-timeout");
			a->ble_opt = 1;
			break;
		case 'B':
			if (strcmp(optarg, "ok") != 0 && strcmp(optarg, "fail") != 0)
				return usage_error("not ok or fail", "--biometric");
			a->w.biometric_ok = strcmp(optarg, "ok") == 0;
			break;
		case 'A':
			if (parse_long(optarg, 1, 1000000000L, &a->w.absent_after) != MN_OK)
				return usage_error("must be a positive number", "--absent-after");
			break;
		case 'M':
			if (strcmp(optarg, "signature") != 0 && strcmp(optarg, "mac") != 0)
				return usage_error("not signature or mac", "--device-auth");
			a->w.device_mac = strcmp(optarg, "mac") == 0;
			break;
		case 'R':
			a->w.record = optarg;
			break;
		case 'Y':
			a->w.replay = optarg;
			break;
		case 'd':
			if (parse_long(optarg, 1, 1000000000L, &a->o.drop_after) != MN_OK)
				return usage_error("must be a positive number", "--drop-after");
			break;
		case 'D':
			if (parse_long(optarg, 0, 600000, &a->o.delay_ms) != MN_OK)
				return usage_error("must be 0-600000", "--delay-ms");
			break;
		case 'f':
			if (a->o.n_faults == SIM_MAX_FAULTS)
				return usage_error("too many faults", "--fault");
			if (parse_fault(optarg, &a->o.faults[a->o.n_faults]) != MN_OK)
				return usage_error("expected INS=SW in hex, e.g. 2A=6F00",
				                   "--fault");
			a->o.n_faults++;
			break;
		case 'l':
			a->log_path = optarg;
			break;
		case 't':
			if (parse_long(optarg, 0, 86400, &a->o.connect_timeout) != MN_OK)
				return usage_error("must be 0-86400 seconds", "--connect-timeout");
			break;
		case 'v':
			a->o.verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return usage_error("bad option", "run");
		}
	}
	if (optind != argc - 1)
		return usage_error("needs exactly one DIR", "run");
	if ((a->w.carrier != SIM_CARRIER_NFC || a->b.bus != NULL || a->ble_opt) && !a->wallet)
		return usage_error("only with --profile wallet", "--carrier/--ble-*");
	if (a->w.carrier != SIM_CARRIER_NFC && !a->w.tnep)
		return usage_error("needs --handover tnep (the reader's Handover Request brings "
		                   "the BLE UUID)",
		                   "--carrier");
	if (a->ble_opt && a->b.bus == NULL)
		return usage_error("need --ble-bus", "--ble-fault/--ble-mtu/--ble-timeout");
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a = {
	    .o = {.host = "127.0.0.1", .port = SIM_DEFAULT_PORT, .connect_timeout = 10},
	    .w = {.biometric_ok = 1},
	    .b = {.mtu = SIM_BLE_MTU_DEFAULT, .timeout = SIM_BLE_TIMEOUT_DEFAULT},
	    .profile = -1};
	struct sim_card *card = NULL;
	struct sim_ble *ble = NULL;
	char *state = NULL;
	int r, rc = 1;

	if ((r = parse_run(argc, argv, &a)) != 0)
		return r < 0 ? 0 : r;
	if (a.state == NULL && (a.state = state = sim_path(argv[optind], "state")) == NULL)
		goto out;
	if (a.log_path != NULL && (a.o.apdu_log = open_log(a.log_path)) == NULL) {
		fprintf(stderr, "mynumber-sim: cannot open the APDU log %s: %s\n", a.log_path,
		        strerror(errno));
		goto out;
	}
	if (install_signals() != MN_OK)
		goto out;
	if (a.wallet) {
		if (sim_wallet_card_load(argv[optind], &a.w, &card) != MN_OK) {
			fprintf(stderr, "mynumber-sim: cannot load the wallet in %s\n",
			        argv[optind]);
			goto out;
		}
	} else if (sim_card_load(argv[optind], a.state, a.profile, &card) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot load the card in %s\n", argv[optind]);
		goto out;
	}
	card->verbose = a.o.verbose;
	a.b.verbose = a.o.verbose;
	if (a.b.bus != NULL && sim_ble_start(card->wallet, &a.b, &stop_flag, &ble) != MN_OK)
		goto out;
	if (sim_vpcd_run(card, &a.o, &stop_flag) == MN_OK)
		rc = 0;
out:
	sim_ble_stop(&ble);
	sim_card_free(&card);
	if (a.o.apdu_log != NULL)
		fclose(a.o.apdu_log);
	free(state);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "crl") == 0)
		return cmd_crl(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("mynumber-sim (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	fputs(usage_text, stderr);
	return 1;
}
