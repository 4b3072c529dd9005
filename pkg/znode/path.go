package znode

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidatePath applies ZooKeeper's PathUtils.validatePath rules. The error
// wraps ErrBadArguments and says what is wrong.
func ValidatePath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: path length must be > 0", ErrBadArguments)
	}
	if p[0] != '/' {
		return fmt.Errorf("%w: path %q must start with / character", ErrBadArguments, p)
	}
	if len(p) == 1 {
		return nil
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: path %q is not valid UTF-8", ErrBadArguments, p)
	}
	if p[len(p)-1] == '/' {
		return fmt.Errorf("%w: path %q must not end with / character", ErrBadArguments, p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: path %q has an empty node name", ErrBadArguments, p)
		case ".", "..":
			return fmt.Errorf("%w: path %q has a relative path segment", ErrBadArguments, p)
		}
	}
	for i, c := range p {
		switch {
		case c == 0:
			return fmt.Errorf("%w: path %q has a null character at %d", ErrBadArguments, p, i)
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0 && c <= 0xffff:
			return fmt.Errorf("%w: path %q has an invalid character at %d", ErrBadArguments, p, i)
		}
	}
	return nil
}

// Parent returns the parent path of p: "/" for top-level nodes, "" for "/".
func Parent(p string) string {
	if p == "/" {
		return ""
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Base returns the last segment of p ("" for "/").
func Base(p string) string {
	i := strings.LastIndexByte(p, '/')
	return p[i+1:]
}

// Join appends a child name to a parent path.
func Join(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}
