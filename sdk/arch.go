package sdk

import (
	"regexp"
	"runtime"
)

// debianArches maps Debian architecture names to their multiarch triplets
// (dpkg-architecture -qDEB_HOST_MULTIARCH), for the architectures Debian
// ships and a few ports.
var debianArches = map[string]string{
	"amd64":    "x86_64-linux-gnu",
	"arm64":    "aarch64-linux-gnu",
	"armhf":    "arm-linux-gnueabihf",
	"armel":    "arm-linux-gnueabi",
	"i386":     "i386-linux-gnu",
	"mips64el": "mips64el-linux-gnuabi64",
	"mipsel":   "mipsel-linux-gnu",
	"ppc64el":  "powerpc64le-linux-gnu",
	"ppc64":    "powerpc64-linux-gnu",
	"riscv64":  "riscv64-linux-gnu",
	"s390x":    "s390x-linux-gnu",
	"loong64":  "loongarch64-linux-gnu",
	"x32":      "x86_64-linux-gnux32",
	"sparc64":  "sparc64-linux-gnu",
	"alpha":    "alpha-linux-gnu",
	"hppa":     "hppa-linux-gnu",
	"m68k":     "m68k-linux-gnu",
	"sh4":      "sh4-linux-gnu",
}

// Triplet returns the multiarch triplet of a Debian architecture, or "".
func Triplet(arch string) string { return debianArches[arch] }

// archOf returns the Debian architecture of a multiarch triplet, or "".
func archOf(triplet string) string {
	for a, t := range debianArches {
		if t == triplet {
			return a
		}
	}
	return ""
}

// goArches maps GOARCH to the Debian architecture of the host.
var goArches = map[string]string{
	"amd64":    "amd64",
	"arm64":    "arm64",
	"386":      "i386",
	"arm":      "armhf",
	"ppc64le":  "ppc64el",
	"riscv64":  "riscv64",
	"s390x":    "s390x",
	"loong64":  "loong64",
	"mips64le": "mips64el",
}

// hostTriplet is the triplet of the machine vroot runs on.
func hostTriplet() string { return debianArches[goArches[runtime.GOARCH]] }

// tripletRE matches directory names that are multiarch triplets:
// x86_64-linux-gnu, arm-linux-gnueabihf, i386-kfreebsd-gnu, i386-gnu (Hurd).
// Other names in /usr/lib (gcc-cross, python3.11, x86_64-w64-mingw32 is a
// cross prefix, not multiarch) do not match.
var tripletRE = regexp.MustCompile(`^[a-z0-9_]+-(linux-[a-z0-9_]+|kfreebsd-gnu)$|^(i386|i686|x86_64)-gnu$`)

func isTriplet(name string) bool { return tripletRE.MatchString(name) }
