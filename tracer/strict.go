package tracer

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// --strict and the scratch area. In the default mode the scratch area is
// an ordinary writable mapping: a thread of the build can overwrite the
// host path vroot wrote there between the tracer's resume and the kernel's
// read of it. Under --strict it is mapped read-only and sealed (mseal,
// Linux 6.10+): no mprotect, munmap, mremap or MAP_FIXED can make it
// writable again, /proc/PID/mem writes are refused (hostile.go) and
// process_vm_writev is refused by the filter. vroot itself writes it
// through /proc/PID/mem, whose FOLL_FORCE writes pass page protections
// (process_vm_writev honours them). Where mseal is missing the mapping is
// still read-only, but the build could mprotect it back: Landlock remains
// the guarantee that no write leaves the stage and the grants.

// injectMseal seals the task's scratch area in place of the syscall it
// stopped in.
func (e *engine) injectMseal(t *task) {
	e.inject(t, unix.SYS_MSEAL, [6]uint64{uint64(t.mm.scratch), scratchSize, 0, 0, 0, 0}, exitMseal)
}

// sealed records the outcome of an injected mseal.
func (e *engine) sealed(t *task) {
	t.mm.sealed = true
	if err := getRegs(t.tid, &e.regs); err == nil {
		if ret := regsRet(&e.regs); ret < 0 && ret > -4096 && !e.sealWarned {
			e.sealWarned = true
			e.log.Warn("--strict: cannot seal the scratch area; it stays read-only but could be made writable", "tid", t.tid, "errno", unix.Errno(-ret))
		}
	}
}

// writeScratch writes data at addr in the tracee's scratch area.
func (e *engine) writeScratch(t *task, addr uintptr, data []byte) error {
	if !e.cfg.Strict {
		return linux.WriteMem(t.tid, addr, data)
	}
	f, err := os.OpenFile("/proc/"+strconv.Itoa(t.tid)+"/mem", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(data, int64(addr))
	return err
}
