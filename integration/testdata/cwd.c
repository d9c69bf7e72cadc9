// cwd: chdir into argv[1], then print what the process sees of its cwd
// and its own executable.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
	char buf[4096];
	ssize_t n;
	if (argc < 2 || chdir(argv[1]) != 0) { perror("chdir"); return 1; }
	if (getcwd(buf, sizeof buf)) printf("getcwd: %s\n", buf);
	n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
	if (n >= 0) { buf[n] = 0; printf("proc-cwd: %s\n", buf); }
	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n >= 0) { buf[n] = 0; printf("proc-exe: %s\n", buf); }
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	n = readlink(p, buf, sizeof buf - 1);
	if (n >= 0) { buf[n] = 0; printf("proc-fd: %s\n", buf); }
	if (fchdir(fd) == 0 && getcwd(buf, sizeof buf)) printf("fchdir-getcwd: %s\n", buf);
	FILE *f = fopen("file", "r");
	if (f && fgets(buf, sizeof buf, f)) printf("relative-read: %s", buf);
	return 0;
}
