package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Output of `apt-cache depends` (Debian 12), trimmed.
const aptDepends = `nginx-common
 |Depends: debconf
  Depends: <debconf-2.0>
    cdebconf
    debconf
bind9-dnsutils
 |Depends: bind9-host
  Depends: <host>
    bind9-host
  Depends: bind9-libs
  Depends: libc6
util-linux
  PreDepends: libc6
  PreDepends: libsystemd0
    libelogind0
  Depends: util-linux-extra
  Recommends: sensible-utils
bind9-host
  Depends: libc6
bind9-libs
  Depends: libc6
libc6
  Depends: libgcc-s1
libgcc-s1
  Depends: gcc-12-base
  Depends: libc6
gcc-12-base
libsystemd0
  Depends: libc6
util-linux-extra
  PreDepends: libc6
mawk
  PreDepends: libc6
<awk>
`

func TestResolveDepends(t *testing.T) {
	deps := parseDepends(aptDepends)
	tests := []struct {
		name  string
		group []alt
		have  map[string]bool
		want  string
	}{
		{name: "left out alternative drops the dependency", group: deps["nginx-common"][0]},
		{name: "first alternative", group: deps["bind9-dnsutils"][0], want: "bind9-host"},
		{name: "real package over its providers", group: deps["util-linux"][1], want: "libsystemd0"},
		{name: "already chosen", group: deps["bind9-dnsutils"][2], have: map[string]bool{"libc6": true}},
		{name: "plain", group: deps["util-linux"][2], want: "util-linux-extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := choose(tc.group, tc.have)
			if got != tc.want {
				t.Errorf("choose(%v) = %q, want %q", tc.group, got, tc.want)
			}
		})
	}

	want := map[string][][]alt{
		"nginx-common":   {{{name: "debconf"}, {name: "debconf-2.0", virtual: true, providers: []string{"cdebconf", "debconf"}}}},
		"bind9-dnsutils": {{{name: "bind9-host"}, {name: "host", virtual: true, providers: []string{"bind9-host"}}}, {{name: "bind9-libs"}}, {{name: "libc6"}}},
	}
	for pkg, w := range want {
		if diff := cmp.Diff(w, deps[pkg], cmp.AllowUnexported(alt{})); diff != "" {
			t.Errorf("parseDepends for %s (-want +got):\n%s", pkg, diff)
		}
	}
	if got := len(deps["util-linux"]); got != 3 {
		t.Errorf("util-linux has %d dependencies, want 3 (Recommends are not dependencies)", got)
	}
}
