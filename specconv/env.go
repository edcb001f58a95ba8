package specconv

import "strings"

// DedupEnv keeps one entry per variable name: the last value given, at
// the place of the first (runc's rule, which Docker relies on for its
// overrides). env without duplicates comes back as it is, unallocated.
// Every entry must have a '=' (checkEnv).
func DedupEnv(env []string) []string {
	dup := false
	for i := 1; i < len(env) && !dup; i++ {
		name := envName(env[i])
		for _, e := range env[:i] {
			if envName(e) == name {
				dup = true
				break
			}
		}
	}
	if !dup {
		return env
	}
	out := make([]string, 0, len(env))
	at := make(map[string]int, len(env))
	for _, e := range env {
		name := envName(e)
		if i, ok := at[name]; ok {
			out[i] = e
			continue
		}
		at[name] = len(out)
		out = append(out, e)
	}
	return out
}

func envName(e string) string {
	name, _, _ := strings.Cut(e, "=")
	return name
}
