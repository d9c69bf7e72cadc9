// hostile_fault: loads and faults for vroot to survive. Each mode prints
// one line and exits with a status the test checks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

// forks N P: N processes, at most P alive at once, each stat'ing a path
// and exiting with i % 5; the parent checks every status.
static int forks(int n, int p) {
	int alive = 0, bad = 0;
	long sum = 0, want = 0;
	for (int i = 0; i < n; i++) {
		if (alive == p) {
			int st;
			if (wait(&st) < 0 || !WIFEXITED(st)) bad++;
			else sum += WEXITSTATUS(st);
			alive--;
		}
		pid_t c = fork();
		if (c == 0) {
			struct stat s;
			_exit(stat("/etc", &s) == 0 ? i % 5 : 99);
		}
		if (c < 0) return 3;
		alive++;
		want += i % 5;
	}
	while (alive--) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st)) bad++;
		else sum += WEXITSTATUS(st);
	}
	printf("forks %d: bad %d sum %s\n", n, bad, sum == want ? "ok" : "wrong");
	return bad || sum != want;
}

static void *thread_open(void *arg) {
	(void)arg;
	int fd = open("/etc/hostname", O_RDONLY);
	if (fd >= 0) close(fd);
	return (void *)(long)(fd < 0);
}

// threads N: N threads alive at once, each opening a file.
static int threads(int n) {
	pthread_t *t = calloc(n, sizeof *t);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	int made = 0, bad = 0;
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], &a, thread_open, 0) == 0) made++;
	for (int i = 0; i < made; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += r != 0;
	}
	printf("threads %d: made %d bad %d\n", n, made, bad);
	return made != n || bad;
}

// vforkexec N: vfork + execve("/bin/sh -c 'exit 3'") N times.
static int vforkexec(int n) {
	int bad = 0;
	for (int i = 0; i < n; i++) {
		char *argv[] = {"true", 0};
		pid_t c = vfork();
		if (c == 0) {
			execve("/bin/true", argv, environ);
			_exit(127);
		}
		int st;
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) bad++;
	}
	printf("vforkexec %d: bad %d\n", n, bad);
	return bad != 0;
}

// zombies N: N children that exit at once, reaped only after all are
// made; and N/10 orphans whose parent dies first (vroot reaps them).
static int zombies(int n) {
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0) _exit(0);
		if (c < 0) return 3;
	}
	int reaped = 0;
	while (wait(0) > 0) reaped++;
	for (int i = 0; i < n / 10; i++) {
		pid_t c = fork();
		if (c == 0) {
			if (fork() == 0) {
				usleep(1000);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(c, 0, 0);
	}
	printf("zombies %d: reaped %d\n", n, reaped);
	return reaped != n;
}

// bigargv: exec sh with about 1 MiB of arguments; sh exits 7.
static int bigargv(void) {
	enum { nargs = 8, len = 128 * 1024 - 1 };
	char *argv[nargs + 4] = {"sh", "-c", "exit 7", "sh"};
	for (int i = 0; i < nargs; i++) {
		argv[3 + i] = malloc(len + 1);
		memset(argv[3 + i], 'a' + i, len);
		argv[3 + i][len] = 0;
	}
	argv[3 + nargs] = 0;
	pid_t c = fork();
	if (c == 0) {
		execve("/bin/sh", argv, environ);
		_exit(127);
	}
	int st;
	waitpid(c, &st, 0);
	printf("bigargv: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static void *spin_open(void *arg) {
	char *p = arg;
	for (;;) {
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0) close(fd);
	}
	return 0;
}

// killed N DIR: a child stopped by SIGSTOP and then SIGKILLed; and N
// children with threads busy in rewritten syscalls (creates under DIR,
// which vroot redirects), SIGKILLed at once. Each must die of SIGKILL.
static int killed(int n, const char *dir) {
	int bad = 0, st;
	pid_t c = fork();
	if (c == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, &st, WUNTRACED);
	if (!WIFSTOPPED(st)) bad++;
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) bad++;
	for (int i = 0; i < n; i++) {
		c = fork();
		if (c == 0) {
			static char p[4][4096];
			pthread_t t;
			for (int k = 0; k < 4; k++) {
				snprintf(p[k], sizeof p[k], "%s/killed-%d-%d", dir, i, k);
				pthread_create(&t, 0, spin_open, p[k]);
			}
			pause();
		}
		struct timespec ts = {0, (i % 10) * 2000000L};
		nanosleep(&ts, 0);
		kill(c, SIGKILL);
		waitpid(c, &st, 0);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) bad++;
	}
	printf("killed %d: bad %d\n", n, bad);
	return bad != 0;
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	const char *m = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(m, "forks")) return forks(n, argc > 3 ? atoi(argv[3]) : 1);
	if (!strcmp(m, "threads")) return threads(n);
	if (!strcmp(m, "vforkexec")) return vforkexec(n);
	if (!strcmp(m, "zombies")) return zombies(n);
	if (!strcmp(m, "bigargv")) return bigargv();
	if (!strcmp(m, "killed")) return killed(n, argv[3]);
	return 2;
}
