/* netclient: one network call, and what the kernel (or vroot) said.
 *
 *   netclient connect|sendto|sendmsg|bind ADDR PORT
 *       prints "OP ADDR PORT: ok" (bind: "ok BOUND-ADDR") or ": ERRNAME"
 *   netclient lo-up          bring the loopback interface up (root, in a
 *                            fresh network namespace)
 *   netclient serve PORT     listen on 127.0.0.1:PORT, fork an accepting
 *                            child (alive 60 s at most), print its pid
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static socklen_t parse(const char *addr, const char *port, struct sockaddr_storage *ss) {
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(atoi(port));
		return sizeof *in4;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(port));
		return sizeof *in6;
	}
	fprintf(stderr, "bad address %s\n", addr);
	exit(2);
}

static int report(const char *op, const char *addr, const char *port, int rc) {
	if (rc < 0)
		printf("%s %s %s: %s\n", op, addr, port, strerrorname_np(errno));
	else
		printf("%s %s %s: ok\n", op, addr, port);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "lo-up") == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		strcpy(ifr.ifr_name, "lo");
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			return perror("SIOCGIFFLAGS"), 1;
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			return perror("SIOCSIFFLAGS"), 1;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "serve") == 0) {
		struct sockaddr_storage ss;
		socklen_t len = parse("127.0.0.1", argv[2], &ss);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 64) < 0)
			return perror("serve"), 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0) {
			/* Let the caller's $(...) end. */
			close(1);
			alarm(60);
			for (;;) {
				int c = accept(s, NULL, NULL);
				if (c >= 0)
					close(c);
			}
		}
		printf("%d\n", (int)pid);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: netclient connect|sendto|sendmsg|bind ADDR PORT\n");
		return 2;
	}
	const char *op = argv[1], *addr = argv[2], *port = argv[3];
	struct sockaddr_storage ss;
	socklen_t len = parse(addr, port, &ss);
	int stream = strcmp(op, "connect") == 0 || strcmp(op, "bind") == 0;
	int s = socket(ss.ss_family, stream ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (s < 0)
		return perror("socket"), 1;
	if (strcmp(op, "connect") == 0)
		return report(op, addr, port, connect(s, (struct sockaddr *)&ss, len));
	if (strcmp(op, "sendto") == 0)
		return report(op, addr, port, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&ss, len));
	if (strcmp(op, "sendmsg") == 0) {
		struct iovec iov = {"x", 1};
		struct msghdr mh = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
		return report(op, addr, port, (int)sendmsg(s, &mh, 0));
	}
	if (strcmp(op, "bind") == 0) {
		if (bind(s, (struct sockaddr *)&ss, len) < 0)
			return report(op, addr, port, -1);
		struct sockaddr_storage got;
		socklen_t glen = sizeof got;
		char buf[INET6_ADDRSTRLEN] = "?";
		getsockname(s, (struct sockaddr *)&got, &glen);
		if (got.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, buf, sizeof buf);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, buf, sizeof buf);
		printf("%s %s %s: ok %s\n", op, addr, port, buf);
		return 0;
	}
	fprintf(stderr, "unknown op %s\n", op);
	return 2;
}
