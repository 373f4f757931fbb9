package volumes

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelMounter is the mounter of the running system.
type kernelMounter struct{}

func (kernelMounter) mountTmpfs(target string, sizeBytes int64) error {
	data := ""
	if sizeBytes > 0 {
		data = "size=" + strconv.FormatInt(sizeBytes, 10)
	}
	if err := unix.Mount("tmpfs", target, "tmpfs", 0, data); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: target, Err: err}
	}
	return nil
}

func (kernelMounter) bindFD(fd int, target string) error {
	// The magic link names the very file that was opened and checked, so a
	// path swapped in the meantime cannot redirect the mount.
	source := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind mount", Path: target, Err: err}
	}
	return nil
}

func (kernelMounter) unmount(target string) error {
	if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "unmount", Path: target, Err: err}
	}
	return nil
}

func (kernelMounter) mountPoints() ([]mountPoint, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountInfo(data)
}

// parseMountInfo reads the mount point (field 5) and the filesystem type
// (first field after the " - " separator) of each mountinfo line.
func parseMountInfo(data []byte) ([]mountPoint, error) {
	var out []mountPoint
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		fields := strings.Fields(pre)
		if !ok || len(fields) < 5 {
			return nil, fmt.Errorf("malformed mountinfo line %q", line)
		}
		fsType, _, _ := strings.Cut(post, " ")
		out = append(out, mountPoint{path: unescapeOctal(fields[4]), fsType: fsType})
	}
	return out, sc.Err()
}

// unescapeOctal undoes the kernel's \ooo escaping of spaces, tabs, newlines
// and backslashes in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
