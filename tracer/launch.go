package tracer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// initMarker is the environment variable that turns a re-executed vroot
// binary into the tiny init that becomes the traced command.
const initMarker = "_VROOT_INIT"

// releaseFd is the descriptor on which the init waits until the tracer has
// seized it.
const releaseFd = 3

func init() {
	// The init must make its path syscalls from the thread the tracer
	// seized: the main thread, locked before any goroutine can move.
	if os.Getenv(initMarker) != "" {
		runtime.LockOSThread()
	}
}

// MaybeInit runs the traced command if this process is vroot's init, and
// never returns in that case. Every binary that calls Run (vroot itself,
// and test binaries in their TestMain) must call it first thing in main.
func MaybeInit() {
	if os.Getenv(initMarker) == "" {
		return
	}
	os.Exit(initMain(os.Args[1:]))
}

func initMain(args []string) int {
	// The marker is read before it leaves the environment: its value says
	// which filter to install.
	marker := os.Getenv(initMarker)
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, initMarker+"=") && !strings.HasPrefix(kv, strictEnv+"=") {
			env = append(env, kv)
		}
	}
	// Wait for the tracer: it writes one byte once PTRACE_SEIZE is done.
	var b [1]byte
	release := os.NewFile(releaseFd, "release")
	if n, _ := release.Read(b[:]); n != 1 {
		fmt.Fprintln(os.Stderr, "vroot: the tracer did not start the command")
		return 125
	}
	release.Close()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "vroot: no command")
		return 125
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "vroot: %v\n", os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err))
		return 125
	}
	if v, ok := os.LookupEnv(strictEnv); ok {
		n, _ := strconv.Atoi(v)
		// --strict: Landlock before the filter, so that its own syscalls
		// are not traced; the command inherits the domain at exec.
		if err := landlockRestrict(n); err != nil {
			fmt.Fprintf(os.Stderr, "vroot: --strict: %v\n", err)
			return 125
		}
	}
	tbl, allow := table, noPath
	if marker == initFakeroot {
		tbl, allow = fakerootFilter()
	}
	prog, err := compileFilter(tbl, allow, auditArch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vroot: building the seccomp filter: %v\n", err)
		return 125
	}
	if err := installFilter(prog); err != nil {
		fmt.Fprintf(os.Stderr, "vroot: cannot install the seccomp filter (%v): run vroot where seccomp filters are allowed (for a container: --security-opt seccomp=unconfined or a profile that allows seccomp(2))\n", err)
		return 125
	}
	// From here on every path syscall is traced: the command is looked up
	// in the guest view.
	path, err := lookPath(args[0], env)
	if err != nil {
		return execFailure(args[0], err)
	}
	err = syscall.Exec(path, args, env)
	return execFailure(args[0], err)
}

func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathEnv := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			pathEnv = kv[len("PATH="):]
		}
	}
	var firstErr error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue
		}
		if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
			if firstErr == nil {
				firstErr = syscall.EACCES
			}
			continue
		}
		return p, nil
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", exec.ErrNotFound
}

// execFailure reports a command that could not be run the way a shell
// does, with the env/timeout exit codes.
func execFailure(name string, err error) int {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		fmt.Fprintf(os.Stderr, "vroot: %s: command not found\n", name)
		return 127
	default:
		var errno syscall.Errno
		if errors.As(err, &errno) {
			fmt.Fprintf(os.Stderr, "vroot: %s: %v\n", name, errno)
		} else {
			fmt.Fprintf(os.Stderr, "vroot: %s: %v\n", name, err)
		}
		return 126
	}
}
