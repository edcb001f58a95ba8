package libcontainer

import (
	"errors"
	"fmt"
	"strings"
)

// ValidateID refuses ids that could escape --root or break tools.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("container id must not be empty")
	case len(id) > 1024:
		return fmt.Errorf("container id is %d bytes long; at most 1024 are allowed", len(id))
	case id == CacheDir:
		return fmt.Errorf("container id %q is reserved (berth's cache under --root)", id)
	case id == "." || id == ".." || strings.ContainsAny(id, "/\x00"):
		return fmt.Errorf("invalid container id %q: must not be \".\", \"..\" or contain '/' or NUL", id)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid container id %q: control characters are not allowed", id)
		}
	}
	return nil
}
