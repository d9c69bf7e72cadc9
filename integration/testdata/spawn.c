// spawn: runs argv[1] with vfork+execv, posix_spawn and a raw clone3,
// reporting each child's exit status: every path a build uses to start
// processes must stay traced.
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void status(const char *how, pid_t pid) {
	int s;
	if (pid < 0) { printf("%s: failed\n", how); return; }
	waitpid(pid, &s, 0);
	printf("%s: exit %d\n", how, WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s));
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) { execv(argv[1], argv + 1); _exit(127); }
	status("vfork", pid);
	fflush(stdout);
	if (posix_spawn(&pid, argv[1], 0, 0, argv + 1, environ) != 0) pid = -1;
	status("posix_spawn", pid);
	fflush(stdout);
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0) { execv(argv[1], argv + 1); _exit(127); }
	status("clone3", pid);
	return 0;
}
