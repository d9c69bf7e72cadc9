// hostile_escape: each subcommand tries to change the host directory H
// (argv[2]), which the user may write but vroot does not grant, by one way
// around the trace. It prints "name: ok" or "name: ERRNO" per attempt; the
// test then checks that H is unchanged and where the writes landed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *H;

static void report(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: ok\n", what);
	fflush(stdout);
}

static char *at(const char *name) {
	static char buf[8][4096];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, 4096, "%s/%s", H, name);
	return b;
}

// put writes "pwned" into path through fd from open(flags): returns the
// result of the write, or of the open when it failed.
static long put(int fd) {
	if (fd < 0) return -1;
	long r = write(fd, "pwned\n", 6);
	close(fd);
	return r;
}

static int dirfd_of(const char *p) { return open(p, O_RDONLY | O_DIRECTORY); }

static void syscalls(void) {
	report("SYS_open", put(syscall(SYS_open, at("legacy-open"), O_CREAT | O_WRONLY, 0644)));
	report("SYS_creat", put(syscall(SYS_creat, at("legacy-creat"), 0644)));
	report("SYS_mkdir", syscall(SYS_mkdir, at("legacy-mkdir"), 0755));
	report("SYS_rename", syscall(SYS_rename, at("victim"), at("renamed")));
	report("SYS_unlink", syscall(SYS_unlink, at("keep")));
	report("SYS_chmod", syscall(SYS_chmod, at("keep"), 0600));
	// The kernel reads the number as an int: bits above 31 are ignored,
	// and the filter must see what the kernel runs.
	report("highbits-openat", put(syscall(((long)1 << 32) | SYS_openat, AT_FDCWD, at("highbits"), O_CREAT | O_WRONLY, 0644)));
	report("negative-nr", syscall(0x80000000L | SYS_openat, AT_FDCWD, at("negative"), O_CREAT | O_WRONLY, 0644));
	// openat2 with every size the kernel accepts (zero tail) and bogus ones.
	static char howbuf[8192] __attribute__((aligned(8)));
	size_t sizes[] = {24, 32, 64, 256, 4096};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		memset(howbuf, 0, sizeof howbuf);
		struct open_how *how = (struct open_how *)howbuf;
		how->flags = O_CREAT | O_WRONLY;
		how->mode = 0644;
		char name[64], what[64];
		snprintf(name, sizeof name, "openat2-%zu", sizes[i]);
		snprintf(what, sizeof what, "openat2 size %zu", sizes[i]);
		report(what, put(syscall(SYS_openat2, AT_FDCWD, at(name), how, sizes[i])));
	}
	memset(howbuf, 0, sizeof howbuf);
	((struct open_how *)howbuf)->flags = O_CREAT | O_WRONLY;
	((struct open_how *)howbuf)->mode = 0644;
	report("openat2 size 16", syscall(SYS_openat2, AT_FDCWD, at("openat2-16"), howbuf, 16));
	report("openat2 size 4097", syscall(SYS_openat2, AT_FDCWD, at("openat2-4097"), howbuf, 4097));
	howbuf[40] = 1; // a non-zero byte past what this kernel knows
	report("openat2 size 64 nonzero tail", syscall(SYS_openat2, AT_FDCWD, at("openat2-tail"), howbuf, 64));
	howbuf[40] = 0;
	((struct open_how *)howbuf)->resolve = RESOLVE_IN_ROOT;
	int hd = dirfd_of(H);
	report("openat2 in-root", put(syscall(SYS_openat2, hd, "/openat2-inroot", howbuf, 32)));
	close(hd);
}

// exec: runs "/bin/sh -c 'echo pwned > H/NAME'" by execveat with a dirfd,
// by fexecve of an O_PATH fd, and from a memfd holding a copy of sh.
static void execs(void) {
	char cmd[3][4200];
	snprintf(cmd[0], sizeof cmd[0], "echo pwned > %s/execveat", H);
	snprintf(cmd[1], sizeof cmd[1], "echo pwned > %s/fexecve", H);
	snprintf(cmd[2], sizeof cmd[2], "echo pwned > %s/memfd", H);
	for (int k = 0; k < 3; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *argv[] = {"sh", "-c", cmd[k], 0};
			extern char **environ;
			if (k == 0) {
				int d = open("/bin", O_RDONLY | O_DIRECTORY);
				syscall(SYS_execveat, d, "sh", argv, environ, 0);
			} else if (k == 1) {
				int f = open("/bin/sh", O_PATH);
				fexecve(f, argv, environ);
			} else {
				int src = open("/bin/sh", O_RDONLY);
				int m = memfd_create("sh", MFD_CLOEXEC);
				char buf[65536];
				ssize_t n;
				while ((n = read(src, buf, sizeof buf)) > 0)
					if (write(m, buf, n) != n) _exit(3);
				fexecve(m, argv, environ);
			}
			_exit(99);
		}
		int st;
		waitpid(pid, &st, 0);
		const char *names[] = {"execveat", "fexecve", "memfd exec"};
		printf("%s: exit %d\n", names[k], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		fflush(stdout);
	}
}

static int child_creat(void *arg) {
	int fd = creat((const char *)arg, 0644);
	_exit(fd < 0 ? 1 : (write(fd, "pwned\n", 6) == 6 ? 0 : 2));
}

// tracing: a tracee that traces, attaches, or reaches another process's
// memory and fds. argv[3] is the pid of a process outside the build, of
// the same user, holding H/victim open for writing as fd 3.
static void tracing(pid_t outside) {
	report("PTRACE_TRACEME", ptrace(PTRACE_TRACEME, 0, 0, 0));
	report("PTRACE_ATTACH vroot", ptrace(PTRACE_ATTACH, getppid(), 0, 0));
	report("PTRACE_ATTACH outside", ptrace(PTRACE_ATTACH, outside, 0, 0));
	report("PTRACE_SEIZE outside", ptrace(PTRACE_SEIZE, outside, 0, 0));
	char buf[16] = "pwned";
	struct iovec l = {buf, 5}, r = {(void *)0x10000, 5};
	report("process_vm_writev vroot", syscall(SYS_process_vm_writev, getppid(), &l, 1, &r, 1, 0));
	report("process_vm_writev outside", syscall(SYS_process_vm_writev, outside, &l, 1, &r, 1, 0));
	int pfd = syscall(SYS_pidfd_open, getppid(), 0);
	report("pidfd_getfd vroot", pfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pfd, 0, 0));
	pfd = syscall(SYS_pidfd_open, outside, 0);
	report("pidfd_getfd outside", pfd < 0 ? -1 : put(syscall(SYS_pidfd_getfd, pfd, 3, 0)));
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/mem", getppid());
	report("/proc/vroot/mem", open(p, O_RDWR));
	report("/proc/self/mem", open("/proc/self/mem", O_RDWR));
	snprintf(p, sizeof p, "/proc/%d/mem", outside);
	report("/proc/outside/mem", open(p, O_RDWR));
	// The outside process's fd 3 is H/victim: reopening it through the
	// magic link must resolve in guest space (a staged copy).
	snprintf(p, sizeof p, "/proc/%d/fd/3", outside);
	report("/proc/outside/fd/3", put(open(p, O_WRONLY | O_TRUNC)));
	// CLONE_UNTRACED must be stripped: the child stays traced.
	static char stack[65536];
	pid_t c = clone(child_creat, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, at("untraced-clone"));
	int st = -1;
	if (c > 0) waitpid(c, &st, 0);
	printf("CLONE_UNTRACED clone: exit %d\n", c < 0 ? -1 : WEXITSTATUS(st));
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca = {.flags = CLONE_UNTRACED, .exit_signal = SIGCHLD};
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0) child_creat(at("untraced-clone3"));
	if (c > 0) waitpid(c, &st, 0);
	printf("CLONE_UNTRACED clone3: exit %d\n", c < 0 ? -1 : WEXITSTATUS(st));
	fflush(stdout);
}

// seccomp: nested filters.
static void seccomps(void) {
	// A filter that returns USER_NOTIF for openat and ALLOW otherwise.
	struct sock_filter notif[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog np = {sizeof notif / sizeof *notif, notif};
	report("NEW_LISTENER", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &np));
	report("NEW_LISTENER|TSYNC", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_TSYNC, &np));
	// Without a listener, prctl's filter and seccomp's plain filter can
	// only refuse (USER_NOTIF with no listener is ENOSYS): install one that
	// traces getppid and allows everything else, then write.
	struct sock_filter tr[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 7),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog tp = {sizeof tr / sizeof *tr, tr};
	report("prctl filter", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &tp, 0, 0));
	report("getppid", getppid());
	report("seccomp filter", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &tp));
	report("openat after filters", put(open(at("after-filter"), O_CREAT | O_WRONLY, 0644)));
	report("openat USER_NOTIF no listener", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &np) < 0 ? -1 : open(at("notif"), O_CREAT | O_WRONLY, 0644));
}

static int send_fd(int sock, int fd) {
	char c = 0;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(sock, &mh, 0);
}

static int recv_fd(int sock) {
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	if (recvmsg(sock, &mh, 0) < 0) return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof fd);
	return fd;
}

// magic: magic links and fds that name H.
static void magic(void) {
	char p[4200];
	snprintf(p, sizeof p, "/proc/self/root%s/root-link", H);
	report("/proc/self/root", put(open(p, O_CREAT | O_WRONLY, 0644)));
	int d = dirfd_of(H);
	snprintf(p, sizeof p, "/proc/self/fd/%d/fd-link", d);
	report("/proc/self/fd/N/", put(open(p, O_CREAT | O_WRONLY, 0644)));
	snprintf(p, sizeof p, "/dev/fd/%d/devfd-link", d);
	report("/dev/fd/N/", put(open(p, O_CREAT | O_WRONLY, 0644)));
	snprintf(p, sizeof p, "/proc/%d/fd/%d/pidfd-link", getpid(), d);
	report("/proc/PID/fd/N/", put(open(p, O_CREAT | O_WRONLY, 0644)));
	report("openat(dirfd)", put(openat(d, "dirfd", O_CREAT | O_WRONLY, 0644)));
	report("mkdirat(dirfd)", mkdirat(d, "dirfd-dir", 0755));
	report("unlinkat(dirfd)", unlinkat(d, "keep", 0));
	// A read-only fd on a host file, reopened for writing.
	int ro = open(at("victim"), O_RDONLY);
	snprintf(p, sizeof p, "/proc/self/fd/%d", ro);
	report("reopen O_RDONLY fd O_RDWR", put(open(p, O_RDWR | O_TRUNC)));
	snprintf(p, sizeof p, "/dev/fd/%d", ro);
	report("reopen /dev/fd O_WRONLY", put(open(p, O_WRONLY | O_APPEND)));
	// O_TMPFILE in H, then linked in by name through /proc/self/fd.
	int tf = open(H, O_TMPFILE | O_WRONLY, 0644);
	if (tf >= 0) {
		if (write(tf, "pwned\n", 6) != 6) tf = -1;
	}
	if (tf >= 0) {
		snprintf(p, sizeof p, "/proc/self/fd/%d", tf);
		report("O_TMPFILE+linkat", linkat(AT_FDCWD, p, AT_FDCWD, at("tmpfile"), AT_SYMLINK_FOLLOW));
	} else {
		report("O_TMPFILE", -1);
	}
	// A dirfd received by SCM_RIGHTS from another process of the build.
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t c = fork();
	if (c == 0) {
		_exit(send_fd(sv[0], dirfd_of(H)) < 0);
	}
	int got = recv_fd(sv[1]);
	waitpid(c, 0, 0);
	report("SCM_RIGHTS dirfd", put(openat(got, "scm", O_CREAT | O_WRONLY, 0644)));
	// /proc/PID/cwd of a process that chdir'd into H.
	int pp[2];
	if (pipe(pp)) return;
	c = fork();
	if (c == 0) {
		if (chdir(H)) _exit(1);
		if (write(pp[1], "x", 1) != 1) _exit(1);
		pause();
		_exit(0);
	}
	char x;
	if (read(pp[0], &x, 1) != 1) return;
	snprintf(p, sizeof p, "/proc/%d/cwd/cwd-link", c);
	report("/proc/PID/cwd", put(open(p, O_CREAT | O_WRONLY, 0644)));
	kill(c, SIGKILL);
	waitpid(c, 0, 0);
	report("fchdir", fchdir(d));
	report("creat after fchdir", put(creat("fchdir", 0644)));
	report("/proc/self/cwd after fchdir", put(open("/proc/self/cwd/fchdir-cwd", O_CREAT | O_WRONLY, 0644)));
}

// symlinks: links the build makes in its granted build tree (the cwd).
static void symlinks(void) {
	report("symlink to H", symlink(H, "to-h"));
	report("create through it", put(open("to-h/via-link", O_CREAT | O_WRONLY, 0644)));
	char p[4200];
	snprintf(p, sizeof p, "%s/victim", H);
	report("symlink to H/victim", symlink(p, "to-victim"));
	report("truncate through it", put(open("to-victim", O_WRONLY | O_TRUNC)));
	report("relative symlink", symlink("to-h/keep", "rel"));
	report("chmod through it", chmod("rel", 0600));
	report("rename over the link's target", rename("to-victim", "gone"));
}

// namespaces: mounts, new namespaces, chroot, handles.
static int child_true(void *arg) { (void)arg; _exit(0); }

static void namespaces(void) {
	report("mount tmpfs on H", mount("none", H, "tmpfs", 0, 0));
	report("mount bind", mount(H, "/tmp", 0, MS_BIND, 0));
	report("umount2", umount2("/proc", MNT_DETACH));
	report("open_tree", syscall(SYS_open_tree, AT_FDCWD, H, 1 /* OPEN_TREE_CLONE */));
	report("open_tree plain", syscall(SYS_open_tree, AT_FDCWD, H, 0));
	report("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, H, 0));
	report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
	report("fspick", syscall(SYS_fspick, AT_FDCWD, H, 0));
	report("unshare NEWUSER", unshare(CLONE_NEWUSER));
	report("unshare NEWNS", unshare(CLONE_NEWNS));
	report("unshare NEWUSER|NEWNS", unshare(CLONE_NEWUSER | CLONE_NEWNS));
	static char stack[65536];
	pid_t c = clone(child_true, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, 0);
	report("clone NEWUSER", c);
	if (c > 0) waitpid(c, 0, 0);
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca = {.flags = CLONE_NEWUSER | CLONE_NEWNS, .exit_signal = SIGCHLD};
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0) _exit(0);
	report("clone3 NEWUSER|NEWNS", c);
	if (c > 0) waitpid(c, 0, 0);
	report("chroot", chroot(H));
	report("pivot_root", syscall(SYS_pivot_root, H, H));
	report("setns", setns(open("/proc/self/ns/mnt", O_RDONLY), 0));
	struct {
		unsigned int bytes;
		int type;
		unsigned char f[128];
	} fh = {.bytes = 128};
	int mnt;
	report("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, H, &fh, &mnt, 0));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDWR));
	report("create after", put(open(at("ns-after"), O_CREAT | O_WRONLY, 0644)));
}

// scratch: finds vroot's scratch area (the anonymous mapping of 768 KiB
// that a rewritten path points into) and tries to make it writable.
static void scratch(void) {
	// A create under H is rewritten into the stage: the area exists now.
	put(open(at("scratch"), O_CREAT | O_WRONLY, 0644));
	FILE *m = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo = 0, hi = 0;
	char perms[8] = "";
	while (m && fgets(line, sizeof line, m)) {
		unsigned long a, b, off;
		char p[8];
		int n = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s%n", &a, &b, p, &off, &n) == 4 && b - a == 3 * 4096 * 64 &&
			strspn(line + n, " \n") == strlen(line + n)) {
			lo = a, hi = b;
			strcpy(perms, p);
		}
	}
	if (!lo) {
		printf("scratch: not found\n");
		return;
	}
	printf("scratch perms: %s\n", perms);
	report("mprotect RW", mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE));
	report("mmap MAP_FIXED", mmap((void *)lo, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0);
	report("munmap", munmap((void *)lo, hi - lo));
	int fd = open("/proc/self/mem", O_RDWR);
	report("/proc/self/mem", fd);
}

// fdmeta: metadata changes through a read-only fd of a host file the
// user owns (H/mine), and of a file in the granted build tree.
static void fdmeta(void) {
	int fd = open(at("mine"), O_RDONLY);
	report("fchmod", fchmod(fd, 0600));
	report("fchown", fchown(fd, getuid(), getgid()));
	struct stat st;
	report("fstat", fstat(fd, &st));
	close(fd);
	report("stat", stat(at("mine"), &st));
	printf("guest mode %o\n", st.st_mode & 07777);
	// The AT_EMPTY_PATH forms, on a fresh read-only fd of another file.
	fd = open(at("mine2"), O_RDONLY);
	report("fchownat AT_EMPTY_PATH", fchownat(fd, "", getuid(), getgid(), AT_EMPTY_PATH));
	report("fchmodat2 AT_EMPTY_PATH", syscall(452 /* fchmodat2 */, fd, "", 0640, AT_EMPTY_PATH));
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	report("utimensat AT_EMPTY_PATH", utimensat(fd, "", ts, AT_EMPTY_PATH));
	close(fd);
	stat(at("mine2"), &st);
	printf("guest mode %o mtime %ld\n", st.st_mode & 07777, (long)st.st_mtime);
	// futimens is utimensat(fd, NULL, ...), on a third file.
	struct timespec ts2[2] = {{1100000000, 0}, {1100000000, 0}};
	fd = open(at("mine3"), O_RDONLY);
	report("futimens", futimens(fd, ts2));
	close(fd);
	stat(at("mine3"), &st);
	printf("guest mtime %ld\n", (long)st.st_mtime);
	fd = creat("own", 0644);
	report("granted fchmod", fchmod(fd, 0600));
	fstat(fd, &st);
	printf("granted mode %o\n", st.st_mode & 07777);
}

// tiocsti: a new session whose controlling terminal is a fresh pty, then
// TIOCSTI pushes a command into that terminal's input (the user's shell,
// were it the user's terminal). Prints the ioctl's result and what the
// master side received.
static void tiocsti(void) {
	pid_t c = fork();
	if (c == 0) {
		setsid();
		int m = posix_openpt(O_RDWR | O_NOCTTY);
		if (m < 0 || grantpt(m) || unlockpt(m)) _exit(3);
		int sl = open(ptsname(m), O_RDWR); // becomes the controlling tty
		if (sl < 0) _exit(4);
		char ch = 'X';
		report("TIOCSTI", ioctl(sl, TIOCSTI, &ch));
		_exit(0);
	}
	waitpid(c, 0, 0);
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	H = argv[2];
	const char *what = argv[1];
	if (!strcmp(what, "syscalls")) syscalls();
	else if (!strcmp(what, "exec")) execs();
	else if (!strcmp(what, "tracing")) tracing(argc > 3 ? atoi(argv[3]) : 0);
	else if (!strcmp(what, "seccomp")) seccomps();
	else if (!strcmp(what, "magic")) magic();
	else if (!strcmp(what, "symlinks")) symlinks();
	else if (!strcmp(what, "namespaces")) namespaces();
	else if (!strcmp(what, "scratch")) scratch();
	else if (!strcmp(what, "fdmeta")) fdmeta();
	else if (!strcmp(what, "tiocsti")) tiocsti();
	else if (!strcmp(what, "victim")) {
		// Outside the build: hold H/victim open for writing as fd 3 and
		// wait to be killed.
		int fd = open(at("victim"), O_RDWR);
		if (fd < 0 || dup2(fd, 3) != 3) return 3;
		printf("ready\n");
		fflush(stdout);
		pause();
	} else return 2;
	return 0;
}
