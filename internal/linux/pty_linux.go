package linux

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a new pseudo-terminal pair's master, unlocked, and returns
// it with the slave's path. The master is not a controlling terminal
// (O_NOCTTY); whoever opens the slave in a new session can make it theirs.
func OpenPTY() (master *os.File, slave string, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, "", err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, "", os.NewSyscallError("ioctl(TIOCSPTLCK)", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, "", os.NewSyscallError("ioctl(TIOCGPTN)", err)
	}
	return m, "/dev/pts/" + strconv.Itoa(n), nil
}
