//go:build !unix

package scan

import "os"

// mapFile reads path whole where mmap is not available.
func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
