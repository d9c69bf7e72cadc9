/* probe PATH...: for each path, "PATH: ok FIRSTLINE" if it opens and reads,
 * "PATH: ERRNO" otherwise. Built static, so that it runs when the guest's
 * /usr (and with it the C library) is an SDK's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ELOOP: return "ELOOP";
	case EROFS: return "EROFS";
	}
	return strerror(e);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char buf[256];
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			printf("%s: %s\n", argv[i], ename(errno));
			continue;
		}
		ssize_t n = read(fd, buf, sizeof buf - 1);
		if (n < 0) {
			printf("%s: %s\n", argv[i], ename(errno));
			close(fd);
			continue;
		}
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		printf("%s: ok %s\n", argv[i], buf);
		close(fd);
	}
	return 0;
}
