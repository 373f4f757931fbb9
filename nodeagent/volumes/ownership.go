package volumes

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Permission bits fsGroup ownership adds, as the kubelet does: group
// read-write (read-only for volumes the container cannot write), and for
// directories group search and setgid, so new files inherit the group.
const (
	groupRW   fs.FileMode = 0o660
	groupRO   fs.FileMode = 0o440
	groupExec fs.FileMode = 0o110
)

// changeOwnership gives gid every file under dir, symlinks included, and
// makes them group-accessible.
func changeOwnership(dir string, gid int64, readOnly bool) error {
	mask := groupRW
	if readOnly {
		mask = groupRO
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return fmt.Errorf("setting group of volume file: %w", err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m := mask
		if info.IsDir() {
			m |= fs.ModeSetgid | groupExec
		}
		// Keep sticky and setgid bits (a tmpfs root is 1777).
		mode := info.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid) | m
		if err := os.Chmod(p, mode); err != nil {
			return fmt.Errorf("setting mode of volume file: %w", err)
		}
		return nil
	})
}
