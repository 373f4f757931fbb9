package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCountsMatchJUnit(t *testing.T) {
	dir := t.TempDir()
	junit := `<testsuites><testsuite>
<testcase name="[SynchronizedBeforeSuite]"></testcase>
<testcase name="[It] [sig-api-machinery] A works [Conformance]"></testcase>
<testcase name="[sig-api-machinery] B fails [Conformance]"><failure message="boom"></failure></testcase>
<testcase name="[sig-node] C skipped [Conformance]"><skipped></skipped></testcase>
<testcase name="[sig-node] not conformance"></testcase>
</testsuite></testsuites>`
	list := `- codename: '[sig-api-machinery] A works [Conformance]'
- codename: '[sig-api-machinery] B fails [Conformance]'
- codename: '[sig-node] C skipped [Conformance]'
- codename: '[sig-node] D never ran [Conformance]'
`
	os.WriteFile(filepath.Join(dir, "junit.xml"), []byte(junit), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(list), 0o644)
	os.WriteFile(filepath.Join(dir, "passing.txt"), []byte("# known to pass\n[sig-api-machinery] A works [Conformance]\n[sig-api-machinery] B fails [Conformance]\n"), 0o644)
	var out strings.Builder
	regressions, err := run(filepath.Join(dir, "junit.xml"), filepath.Join(dir, "c.yaml"), dir, "", filepath.Join(dir, "passing.txt"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if regressions != 1 || !strings.Contains(out.String(), "1 regressions (known to pass, failed now):\n- [sig-api-machinery] B fails [Conformance]") {
		t.Errorf("regressions = %d, summary:\n%s", regressions, out.String())
	}
	for _, want := range []string{
		"| sig-api-machinery | 1 | 1 | 0 | 0 |",
		"| sig-node | 0 | 0 | 1 | 1 |",
		"| **total** | 1 | 1 | 1 | 1 |",
		"1 of 4 [Conformance] tests passed.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	failing, _ := os.ReadFile(filepath.Join(dir, "failing.txt"))
	if strings.TrimSpace(string(failing)) != "[sig-api-machinery] B fails [Conformance]" {
		t.Errorf("failing.txt = %q", failing)
	}
}

func TestPassedListFeedsTheKnownPassingFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "junit.xml"), []byte(`<testsuites><testsuite><testcase name="[It] [sig-x] ok [Conformance]"></testcase></testsuite></testsuites>`), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("- codename: '[sig-x] ok [Conformance]'\n"), 0o644)
	var out strings.Builder
	if n, err := run(filepath.Join(dir, "junit.xml"), filepath.Join(dir, "c.yaml"), dir, "", filepath.Join(dir, "missing.txt"), &out); err != nil || n != 0 {
		t.Fatalf("run: %d, %v", n, err)
	}
	passed, _ := os.ReadFile(filepath.Join(dir, "passed.txt"))
	if strings.TrimSpace(string(passed)) != "[sig-x] ok [Conformance]" {
		t.Errorf("passed.txt = %q", passed)
	}
}

// A parallel and a serial ginkgo run each list every spec, with the labels
// appended to the name: a spec counts with the result of the run that ran it.
func TestParallelAndSerialReportsMerge(t *testing.T) {
	dir := t.TempDir()
	parallel := `<testsuites><testsuite>
<testcase name="[It] [sig-node] P passes [Conformance] [sig-node, Conformance]"></testcase>
<testcase name="[It] [sig-node] S serial [Serial] [Conformance] [sig-node, Serial, Conformance]"><skipped></skipped></testcase>
</testsuite></testsuites>`
	serial := `<testsuites><testsuite>
<testcase name="[It] [sig-node] P passes [Conformance] [sig-node, Conformance]"><skipped></skipped></testcase>
<testcase name="[It] [sig-node] S serial [Serial] [Conformance] [sig-node, Serial, Conformance]"><failure message="x"></failure></testcase>
</testsuite></testsuites>`
	os.WriteFile(filepath.Join(dir, "p.xml"), []byte(parallel), 0o644)
	os.WriteFile(filepath.Join(dir, "s.xml"), []byte(serial), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("- codename: '[sig-node] P passes [Conformance]'\n- codename: '[sig-node] S serial [Serial] [Conformance]'\n"), 0o644)
	var out strings.Builder
	if _, err := run(filepath.Join(dir, "p.xml")+","+filepath.Join(dir, "s.xml"), filepath.Join(dir, "c.yaml"), dir, "", "", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| sig-node | 1 | 1 | 0 | 0 |") {
		t.Errorf("summary:\n%s", out.String())
	}
}
