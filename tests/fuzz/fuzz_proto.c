/*
 * Fuzz target "proto": the helper <-> PAM module pipe protocol, mn_proto_recv reading the
 * input from a socketpair (the module's channel to the helper) frame after frame (as the module
 * reads the helper, and the helper the module), until it refuses or the input ends. A frame it
 * accepts must come back byte-identical through mn_proto_send.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "mn_err.h"
#include "mn_proto.h"

#define PIPE_ROOM 60000 /* below the socket buffer: the write never blocks */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd[2], back[2];
	char buf[MN_PROTO_MAX + 1], buf2[MN_PROTO_MAX + 1];
	enum mn_frame type, type2;
	size_t len, len2;
	unsigned frames = 0;

	if (size > PIPE_ROOM)
		size = PIPE_ROOM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) != 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, back) != 0) {
		close(fd[0]);
		close(fd[1]);
		return 0;
	}
	if (size > 0 && write(fd[1], data, size) != (ssize_t)size)
		abort();
	shutdown(fd[1], SHUT_WR);
	while (frames++ < 1000 &&
	       mn_proto_recv(fd[0], 100, &type, buf, sizeof(buf), &len) == MN_OK) {
		if (len > MN_PROTO_MAX || buf[len] != '\0')
			abort();
		if (mn_proto_send(back[1], type, buf, len) != MN_OK ||
		    mn_proto_recv(back[0], 100, &type2, buf2, sizeof(buf2), &len2) != MN_OK ||
		    type2 != type || len2 != len || memcmp(buf, buf2, len) != 0)
			abort();
	}
	close(fd[0]);
	close(fd[1]);
	close(back[0]);
	close(back[1]);
	return 0;
}
