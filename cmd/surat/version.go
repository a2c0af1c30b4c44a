package main

import (
	"runtime"
	"runtime/debug"
)

// versionString describes the build from the module's build info (release
// builds carry a module version, others a VCS revision when stamped).
func versionString() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return "surat " + v + rev + " " + runtime.Version()
}
