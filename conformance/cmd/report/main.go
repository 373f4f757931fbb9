// Command report turns e2e.test's JUnit file into the conformance report:
// a summary table (passed, failed, skipped per SIG and the total out of
// every [Conformance] test of the release) and the list of failing tests.
package main

import (
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

type junitSuites struct {
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name    string    `xml:"name,attr"`
	Skipped *struct{} `xml:"skipped"`
	Failure *struct {
		Message string `xml:"message,attr"`
	} `xml:"failure"`
	Error *struct{} `xml:"error"`
}

type conformanceEntry struct {
	Codename string `json:"codename"`
}

type counts struct{ passed, failed, skipped, notRun int }

var sigPattern = regexp.MustCompile(`^\[(sig-[a-z0-9-]+)\]`)

func sigOf(name string) string {
	if m := sigPattern.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return "other"
}

// conformanceName finds the conformance test a JUnit case is: ginkgo's CLI
// appends the spec's labels ("[sig-node, Conformance]") to the name, which
// e2e.test's own report does not.
func conformanceName(junitName string, conformance map[string]bool) string {
	name := normalize(junitName)
	if conformance[name] {
		return name
	}
	if strings.HasSuffix(name, "]") {
		if i := strings.LastIndex(name, " ["); i > 0 && conformance[name[:i]] {
			return name[:i]
		}
	}
	return ""
}

// normalize maps a JUnit test name to the codename form: ginkgo v2 writes
// specs as "[It] <codename>", and line breaks in the YAML fold to spaces.
func normalize(name string) string {
	return strings.TrimPrefix(strings.Join(strings.Fields(name), " "), "[It] ")
}

func main() {
	junit := flag.String("junit", "", "JUnit XML files written by e2e.test or ginkgo, comma-separated (a parallel and a serial run)")
	list := flag.String("conformance", "", "conformance.yaml of the release")
	out := flag.String("out", "", "directory for summary.md and failing.txt")
	note := flag.String("note", "", "a line added to the summary (cluster description)")
	passing := flag.String("passing", "", "file of tests known to pass, one name a line; a listed test that fails is a regression")
	flag.Parse()
	regressions, err := run(*junit, *list, *out, *note, *passing, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if regressions > 0 {
		os.Exit(3)
	}
}

// readPassing reads the known-passing list; a missing file is an empty list.
func readPassing(path string) (map[string]bool, error) {
	out := map[string]bool{}
	if path == "" {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out[normalize(line)] = true
		}
	}
	return out, nil
}

// run writes the report and returns how many known-passing tests failed.
func run(junitPath, listPath, outDir, note, passingPath string, stdout io.Writer) (int, error) {
	known, err := readPassing(passingPath)
	if err != nil {
		return 0, err
	}
	var suites junitSuites
	for _, path := range strings.Split(junitPath, ",") {
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		var one junitSuites
		if err := xml.Unmarshal(data, &one); err != nil {
			return 0, fmt.Errorf("parsing %s: %w", path, err)
		}
		suites.Suites = append(suites.Suites, one.Suites...)
	}
	var entries []conformanceEntry
	raw, err := os.ReadFile(listPath)
	if err != nil {
		return 0, err
	}
	if err := yaml.Unmarshal(raw, &entries); err != nil {
		return 0, fmt.Errorf("parsing %s: %w", listPath, err)
	}
	conformance := map[string]bool{}
	perSIG := map[string]*counts{}
	bump := func(sig string) *counts {
		if perSIG[sig] == nil {
			perSIG[sig] = &counts{}
		}
		return perSIG[sig]
	}
	for _, e := range entries {
		name := normalize(e.Codename)
		conformance[name] = true
	}
	// Each JUnit file lists every spec; one that ran in either file counts
	// with its result, one skipped in all of them as skipped.
	results := map[string]junitCase{}
	var order []string
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			name := conformanceName(c.Name, conformance)
			if name == "" {
				continue // setup/teardown nodes and non-conformance tests are not counted
			}
			prev, ok := results[name]
			if !ok {
				order = append(order, name)
			}
			if !ok || (prev.Skipped != nil && c.Skipped == nil) {
				results[name] = c
			}
		}
	}
	seen := map[string]bool{}
	var failing, passed, regressions []string
	for _, name := range order {
		c := results[name]
		seen[name] = true
		n := bump(sigOf(name))
		switch {
		case c.Failure != nil || c.Error != nil:
			n.failed++
			failing = append(failing, name)
			if known[name] {
				regressions = append(regressions, name)
			}
		case c.Skipped != nil:
			n.skipped++
		default:
			n.passed++
			passed = append(passed, name)
		}
	}
	for name := range conformance {
		if !seen[name] {
			bump(sigOf(name)).notRun++
		}
	}
	sort.Strings(failing)
	sort.Strings(passed)
	sort.Strings(regressions)
	var b strings.Builder
	fmt.Fprintf(&b, "# Conformance report\n\n")
	if note != "" {
		fmt.Fprintf(&b, "%s\n\n", note)
	}
	fmt.Fprintf(&b, "| SIG | passed | failed | skipped | not run |\n|---|---|---|---|---|\n")
	var sigs []string
	for s := range perSIG {
		sigs = append(sigs, s)
	}
	sort.Strings(sigs)
	var total counts
	for _, s := range sigs {
		n := perSIG[s]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", s, n.passed, n.failed, n.skipped, n.notRun)
		total.passed += n.passed
		total.failed += n.failed
		total.skipped += n.skipped
		total.notRun += n.notRun
	}
	fmt.Fprintf(&b, "| **total** | %d | %d | %d | %d |\n\n", total.passed, total.failed, total.skipped, total.notRun)
	fmt.Fprintf(&b, "%d of %d [Conformance] tests passed.\n", total.passed, len(conformance))
	if len(regressions) > 0 {
		fmt.Fprintf(&b, "\n%d regressions (known to pass, failed now):\n", len(regressions))
		for _, r := range regressions {
			fmt.Fprintf(&b, "- %s\n", r)
		}
	}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return 0, err
		}
		for name, lines := range map[string][]string{"failing.txt": failing, "passed.txt": passed} {
			if err := os.WriteFile(filepath.Join(outDir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				return 0, err
			}
		}
		if err := os.WriteFile(filepath.Join(outDir, "summary.md"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
	}
	_, err = io.WriteString(stdout, b.String())
	return len(regressions), err
}
