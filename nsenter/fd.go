package nsenter

// ParseFD reads an fd number handed over in the environment
// (_BERTH_INITPIPE and the other _BERTH_*FD variables): decimal digits
// only, at most 2^31-1. Signs, spaces and empty strings are refused, as
// the constructor's berth_parse_fd refuses them (FuzzParseFD pins the two).
func ParseFD(s string) (int, bool) {
	if s == "" {
		return -1, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1, false
		}
		v = v*10 + int(c-'0')
		if v > 0x7fffffff {
			return -1, false
		}
	}
	return v, true
}
