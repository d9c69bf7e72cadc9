package tracer

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Under --fakeroot the ids and the set*id family return 0 from the filter,
// the fd-based calls it rewrites are traced (even with a NULL path for the
// *at forms), and everything else keeps the plain filter's verdict. The
// plain filter is untouched: no extra stop without the flag.
func TestFakerootFilterVerdicts(t *testing.T) {
	tbl, allow := fakerootFilter()
	raw, err := compileFilter(tbl, allow, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	fake := newFilterRunner(t, raw)
	plainRaw, err := buildFilter(table, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	plain := newFilterRunner(t, plainRaw)
	var none [6]uint64
	succeed := map[int]bool{}
	for _, nr := range fakerootSucceed {
		succeed[nr] = true
		if got, _ := fake.run(t, uint32(nr), auditArch, none); got != unix.SECCOMP_RET_ERRNO {
			t.Errorf("fakeroot: nr %d: %s, want ERRNO(0)", nr, retName(got))
		}
	}
	traced := map[int]bool{}
	for _, nr := range fakerootTraced {
		traced[nr] = true
	}
	for _, name := range []string{"newfstatat", "statx", "fchownat", "fchmodat2"} {
		for _, row := range table {
			if row.Name == name {
				traced[row.Nr] = true
			}
		}
	}
	for nr := range traced {
		if got, _ := fake.run(t, uint32(nr), auditArch, none); got != retTrace {
			t.Errorf("fakeroot: nr %d with NULL arguments: %s, want TRACE", nr, retName(got))
		}
	}
	for nr := 0; nr <= 1024; nr++ {
		for _, args := range argPatterns() {
			want, _ := plain.run(t, uint32(nr), auditArch, args)
			if succeed[nr] || traced[nr] {
				if want != retAllow && want != retTrace {
					t.Errorf("nr %d: the plain filter says %s", nr, retName(want))
				}
				if succeed[nr] && want != retAllow {
					t.Errorf("plain filter: nr %d: %s, want ALLOW (no stop without --fakeroot)", nr, retName(want))
				}
				continue
			}
			if got, _ := fake.run(t, uint32(nr), auditArch, args); got != want {
				t.Errorf("nr %d args %x: fakeroot %s, plain %s", nr, args, retName(got), retName(want))
			}
		}
	}
	// (fchown and the other fd-based metadata changes are traced in both:
	// on a lower file they act on its staged copy, see sysFdMeta.)
	for _, nr := range []int{unix.SYS_FSTAT, unix.SYS_GETRESUID} {
		if got, _ := plain.run(t, uint32(nr), auditArch, none); got != retAllow {
			t.Errorf("plain filter: nr %d: %s, want ALLOW", nr, retName(got))
		}
	}
}
