package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// prepareSubPath bind-mounts subPath of the volume at volumePath onto
// target and returns target. Every lookup is confined beneath the volume by
// the kernel (openat2 RESOLVE_BENEATH), so symlinks inside the volume may
// point within it but never out of it, and the mount source is the file
// descriptor that was checked, not a path that could be swapped meanwhile.
func (m *Manager) prepareSubPath(volumePath, subPath, target string) (string, error) {
	base, err := filepath.EvalSymlinks(volumePath)
	if err != nil {
		return "", fmt.Errorf("resolving volume path: %w", err)
	}
	baseFD, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: base, Err: err}
	}
	defer unix.Close(baseFD)

	fd, err := openBeneath(baseFD, subPath, unix.O_PATH|unix.O_CLOEXEC)
	if errors.Is(err, unix.ENOENT) {
		// Create the subPath now: left to the runtime, it would get the
		// runtime's mode rather than the volume's (which carries fsGroup).
		var st unix.Stat_t
		if err := unix.Fstat(baseFD, &st); err != nil {
			return "", &os.PathError{Op: "stat", Path: base, Err: err}
		}
		if err := mkdirBeneath(baseFD, subPath, st.Mode&0o777|st.Mode&unix.S_ISGID); err != nil {
			return "", createError{err}
		}
		fd, err = openBeneath(baseFD, subPath, unix.O_PATH|unix.O_CLOEXEC)
	}
	if err != nil {
		return "", &os.PathError{Op: "open beneath volume", Path: subPath, Err: err}
	}
	defer unix.Close(fd)
	var src unix.Stat_t
	if err := unix.Fstat(fd, &src); err != nil {
		return "", &os.PathError{Op: "stat", Path: subPath, Err: err}
	}

	var cur unix.Stat_t
	if err := unix.Stat(target, &cur); err == nil {
		if cur.Dev == src.Dev && cur.Ino == src.Ino {
			return target, nil // bound by an earlier call, e.g. before a restart
		}
		// A bind of what the path was before (an older config map
		// version, say): replace it.
		for i := 0; i < 8 && m.mounter.unmount(target) == nil; i++ {
		}
		_ = os.Remove(target)
	}
	if err := os.MkdirAll(filepath.Dir(target), podDirMode); err != nil {
		return "", err
	}
	if src.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := os.Mkdir(target, podDirMode); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
	} else {
		// A file target takes a bind of any non-directory.
		f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o640)
		if err != nil {
			return "", err
		}
		_ = f.Close()
	}
	if err := m.mounter.bindFD(fd, target); err != nil {
		return "", err
	}
	return target, nil
}

// openBeneath opens path relative to dirFD without leaving it.
func openBeneath(dirFD int, path string, flags int) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS}
	var err error
	for range 8 {
		var fd int
		fd, err = unix.Openat2(dirFD, path, how)
		// EAGAIN: a concurrent rename raced the confined lookup.
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
	return -1, err
}

// mkdirBeneath creates the missing directories of subPath beneath baseFD
// with mode perm.
func mkdirBeneath(baseFD int, subPath string, perm uint32) error {
	parts := strings.Split(filepath.Clean(subPath), "/")
	for i := range parts {
		prefix := filepath.Join(parts[:i+1]...)
		fd, err := openBeneath(baseFD, prefix, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "open beneath volume", Path: prefix, Err: err}
		}
		if err := mkdirAt(baseFD, parts[:i], parts[i], perm); err != nil {
			return err
		}
	}
	return nil
}

// mkdirAt creates directory name in the directory parent (a path beneath
// baseFD) and sets its mode, which mkdir's umask may have narrowed.
func mkdirAt(baseFD int, parent []string, name string, perm uint32) error {
	parentFD := baseFD
	if len(parent) > 0 {
		p := filepath.Join(parent...)
		fd, err := openBeneath(baseFD, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
		if err != nil {
			return &os.PathError{Op: "open beneath volume", Path: p, Err: err}
		}
		defer unix.Close(fd)
		parentFD = fd
	}
	if err := unix.Mkdirat(parentFD, name, perm); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	fd, err := openBeneath(parentFD, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, perm); err != nil {
		return &os.PathError{Op: "chmod", Path: name, Err: err}
	}
	return nil
}
