//go:build linux

package tracer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// --strict: Landlock, applied by the init to itself before the seccomp
// filter and inherited by everything the build runs. It handles only the
// write rights, so reads stay unrestricted (the trace decides them), and
// allows them beneath the paths the tracer opened for it (Config.Writable):
// a path the build rewrites after vroot checked it, or a symlink it swaps
// under the kernel's feet, cannot write anywhere else. Landlock has no
// right for chmod, chown, utimes or xattrs: those stay guarded by the
// trace alone (docs/security.md).

// landlockMinABI is the oldest Landlock ABI --strict accepts: ABI 3 (Linux
// 6.2) is the first to control truncate(2); ABI 2 (5.19) added REFER,
// without which every rename or link across directories fails.
const landlockMinABI = 3

// strictEnv tells the init how many Landlock rule fds follow releaseFd.
const strictEnv = "_VROOT_STRICT"

const (
	landlockFileWrite = unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	landlockDirWrite  = landlockFileWrite | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR |
		unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_MAKE_CHAR |
		unix.LANDLOCK_ACCESS_FS_MAKE_DIR | unix.LANDLOCK_ACCESS_FS_MAKE_REG |
		unix.LANDLOCK_ACCESS_FS_MAKE_SOCK | unix.LANDLOCK_ACCESS_FS_MAKE_FIFO |
		unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK | unix.LANDLOCK_ACCESS_FS_MAKE_SYM |
		unix.LANDLOCK_ACCESS_FS_REFER
)

// ErrNoLandlock means --strict cannot be honoured on this kernel.
var ErrNoLandlock = errors.New("--strict needs Landlock")

// LandlockABI returns the kernel's Landlock ABI version, 0 when Landlock is
// not built in or not enabled (not in the lsm= list).
func LandlockABI() int {
	r, _, e := syscall.RawSyscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(r)
}

// checkLandlock is the tracer's refusal, before anything starts, of a
// --strict run the kernel cannot contain.
func checkLandlock() error { return checkLandlockABI(LandlockABI()) }

func checkLandlockABI(abi int) error {
	if abi < landlockMinABI {
		return fmt.Errorf("%w ABI %d or later (Linux 6.2+, with landlock in the kernel's lsm= list); this kernel has %s: run without --strict", ErrNoLandlock, landlockMinABI, abiName(abi))
	}
	return nil
}

func abiName(abi int) string {
	if abi == 0 {
		return "none"
	}
	return "ABI " + strconv.Itoa(abi)
}

// openWritable opens each path O_PATH for the init's rules; paths that do
// not exist are skipped (nothing there to write into).
func openWritable(paths []string) []*os.File {
	var fs []*os.File
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		fs = append(fs, os.NewFile(uintptr(fd), p))
	}
	return fs
}

// landlockRestrict runs in the init: it builds the ruleset from the n
// inherited fds after releaseFd, closes them, and restricts the calling
// thread (the one that execs the command). no_new_privs must be set.
func landlockRestrict(n int) error {
	attr := unix.LandlockRulesetAttr{Handled_access_fs: landlockDirWrite}
	// Only handled_access_fs (the first 8 bytes): every ABI knows it.
	rs, _, e := syscall.RawSyscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), 8, 0)
	if e != 0 {
		return os.NewSyscallError("landlock_create_ruleset", e)
	}
	defer unix.Close(int(rs))
	for i := 0; i < n; i++ {
		fd := releaseFd + 1 + i
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return os.NewSyscallError("fstat", err)
		}
		allowed := uint64(landlockDirWrite)
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			allowed = landlockFileWrite
		}
		pb := unix.LandlockPathBeneathAttr{Allowed_access: allowed, Parent_fd: int32(fd)}
		_, _, e := syscall.RawSyscall6(unix.SYS_LANDLOCK_ADD_RULE, rs, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&pb)), 0, 0, 0)
		if e != 0 {
			return os.NewSyscallError("landlock_add_rule", e)
		}
		unix.Close(fd)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_LANDLOCK_RESTRICT_SELF, rs, 0, 0); e != 0 {
		return os.NewSyscallError("landlock_restrict_self", e)
	}
	return nil
}
