// hostile: tries to leave the trace; prints what each attempt got.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: ok\n", what);
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	const char *what = argv[1], *path = argv[2];
	if (!strcmp(what, "io_uring")) {
		char params[120] = {0};
		report("io_uring_setup", syscall(SYS_io_uring_setup, 8, params));
	} else if (!strcmp(what, "mount")) {
		report("mount", mount("none", path, "tmpfs", 0, 0));
	} else if (!strcmp(what, "open_by_handle_at")) {
		char h[128] = {0};
		report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY));
	} else if (!strcmp(what, "int80")) {
		// i386 open(path, O_RDONLY) through the 32-bit entry point, with
		// the path in the low 4 GiB where a 32-bit pointer can name it.
		char *low = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (low == MAP_FAILED) return 3;
		strncpy(low, path, 4095);
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(5), "b"(low), "c"(0) : "memory", "r8", "r9", "r10", "r11");
		if (r < 0) { errno = -r; r = -1; }
		report("int80-open", r);
	} else if (!strcmp(what, "x32")) {
		long r = syscall(0x40000000 | SYS_openat, AT_FDCWD, path, O_RDONLY);
		report("x32-open", r);
	} else if (!strcmp(what, "open")) {
		report("open", open(path, O_RDONLY));
	}
	return 0;
}
