//go:build linux

package cache

import "syscall"

const canStatfs = true

// freeSpace is the bytes available to unprivileged users on the file
// system of dir (min_free); -1 when unknown.
func freeSpace(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
