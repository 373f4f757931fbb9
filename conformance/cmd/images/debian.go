package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// notInImages are Debian packages that other packages depend on for
// installing (maintainer scripts, package management, system accounts) but
// that nothing in a container runs. A dependency on one of them is dropped
// rather than satisfied.
var notInImages = map[string]bool{
	"adduser": true, "base-files": true, "base-passwd": true, "cdebconf": true,
	"debconf": true, "debconf-2.0": true, "debianutils": true, "dpkg": true,
	"init-system-helpers": true, "install-info": true, "login": true,
	"lsb-base": true, "passwd": true, "perl-base": true, "sensible-utils": true,
	"sysvinit-utils": true, "tar": true, "usrmerge": true, "usr-is-merged": true,
}

// pruned are folders of an extracted package set that no test reads.
var pruned = []string{
	"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
	"usr/share/lintian", "usr/share/bug", "usr/share/bash-completion",
	"usr/share/zsh", "usr/share/doc-base", "usr/share/menu",
	// glibc's iconv modules (8 MB): none of the tools converts charsets.
	"usr/lib/x86_64-linux-gnu/gconv",
}

// alt is one alternative of a dependency: a package, or a virtual package
// and the packages that provide it.
type alt struct {
	name      string
	virtual   bool
	providers []string
}

// parseDepends reads the output of `apt-cache depends` for several packages:
// for each package, its dependencies as groups of alternatives.
func parseDepends(out string) map[string][][]alt {
	deps := map[string][][]alt{}
	var cur string
	openGroup := false // the last dependency line ended with "|"
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case !strings.HasPrefix(line, " "):
			cur = strings.TrimSuffix(strings.TrimSpace(line), ":any")
			if _, ok := deps[cur]; !ok {
				deps[cur] = [][]alt{}
			}
			openGroup = false
		case strings.HasPrefix(line, "    "):
			// A provider of the alternative above.
			groups := deps[cur]
			if len(groups) == 0 {
				continue
			}
			g := groups[len(groups)-1]
			g[len(g)-1].providers = append(g[len(g)-1].providers, strings.TrimSpace(line))
		default:
			or := strings.HasPrefix(line, " |")
			kind, name, ok := strings.Cut(strings.TrimLeft(line, " |"), ": ")
			if !ok || (kind != "Depends" && kind != "PreDepends") {
				openGroup = false
				continue
			}
			a := alt{name: strings.TrimSuffix(name, ":any")}
			if strings.HasPrefix(a.name, "<") {
				a.name, a.virtual = strings.Trim(a.name, "<>"), true
			}
			if openGroup {
				g := deps[cur]
				g[len(g)-1] = append(g[len(g)-1], a)
			} else {
				deps[cur] = append(deps[cur], []alt{a})
			}
			openGroup = or
		}
	}
	return deps
}

// choose picks the package that satisfies one dependency: one already
// chosen if any alternative names it, nothing if an alternative is left out
// of images, otherwise the first real package (or first provider).
func choose(group []alt, chosen map[string]bool) (string, bool) {
	var candidates []string
	for _, a := range group {
		if notInImages[a.name] {
			return "", false
		}
		if !a.virtual {
			candidates = append(candidates, a.name)
		}
		candidates = append(candidates, a.providers...)
	}
	for _, c := range candidates {
		if chosen[c] {
			return "", false
		}
	}
	for _, c := range candidates {
		if !notInImages[c] {
			return c, true
		}
	}
	return "", false
}

// resolve lists roots and every package they need at run time, taking
// one alternative per dependency. One recursive apt-cache query lists the
// dependencies of everything reachable (each apt-cache run reads all package
// lists, which takes a second or two here).
func resolve(roots []string) ([]string, error) {
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"}, roots...)
	out, err := run("", "apt-cache", args...)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", strings.Join(roots, " "), err)
	}
	deps := parseDepends(out)
	chosen := map[string]bool{}
	queue := append([]string(nil), roots...)
	for _, r := range roots {
		chosen[r] = true
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		groups, ok := deps[p]
		if !ok {
			return nil, fmt.Errorf("apt-cache knows no package %s (run apt-get update)", p)
		}
		for _, g := range groups {
			if c, ok := choose(g, chosen); ok {
				chosen[c] = true
				queue = append(queue, c)
			}
		}
	}
	list := make([]string, 0, len(chosen))
	for p := range chosen {
		list = append(list, p)
	}
	sort.Strings(list)
	return list, nil
}

// debRootfs extracts the named Debian packages and their dependencies into
// cache/rootfs/name, without running maintainer scripts, and returns the
// folder. Downloaded .deb files are kept in cache/debs. An extraction made
// for the same roots is reused without asking apt again, so newer package
// versions come in only after the cache is removed.
func (b *builder) debRootfs(name string, roots []string) (string, error) {
	if dir, ok := b.rootfs[name]; ok {
		return dir, nil
	}
	dir := filepath.Join(b.cache, "rootfs", name)
	left := make([]string, 0, len(notInImages))
	for p := range notInImages {
		left = append(left, p)
	}
	sort.Strings(left)
	key := fmt.Sprintf("rootfs-2\nroots %s\nleft out %s\npruned %s\n", strings.Join(roots, " "), strings.Join(left, " "), strings.Join(pruned, " "))
	if fresh(dir, key, dir+".key") {
		b.rootfs[name] = dir
		return dir, nil
	}
	pkgs, err := resolve(roots)
	if err != nil {
		return "", err
	}
	debDir := filepath.Join(b.cache, "debs")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return "", err
	}
	debs := map[string]string{}
	var missing []string
	for _, p := range pkgs {
		m, _ := filepath.Glob(filepath.Join(debDir, p+"_*.deb"))
		if len(m) == 0 {
			missing = append(missing, p)
			continue
		}
		sort.Strings(m)
		debs[p] = m[len(m)-1]
	}
	if len(missing) > 0 {
		b.logf("downloading %d Debian packages for %s", len(missing), name)
		if _, err := run(debDir, "apt-get", append([]string{"download", "-q"}, missing...)...); err != nil {
			return "", err
		}
		for _, p := range missing {
			m, _ := filepath.Glob(filepath.Join(debDir, p+"_*.deb"))
			if len(m) == 0 {
				return "", fmt.Errorf("apt-get download left no .deb for %s", p)
			}
			debs[p] = m[0]
		}
	}
	b.logf("extracting %d packages into rootfs %s", len(pkgs), name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, p := range pkgs {
		if _, err := run("", "dpkg-deb", "-x", debs[p], dir); err != nil {
			return "", err
		}
	}
	for _, p := range pruned {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			return "", err
		}
	}
	// The dynamic loader's cache, which libc-bin's trigger would have
	// written on an installation.
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		return "", err
	}
	if _, err := run("", "ldconfig", "-r", dir); err != nil {
		return "", err
	}
	if err := stamp(dir+".key", key); err != nil {
		return "", err
	}
	b.rootfs[name] = dir
	return dir, nil
}

// run runs a command and returns its standard output; the error carries its
// standard error.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
