package specconv

import "strings"

// DedupEnv keeps one entry per variable name: the last value given, at
// the place of the first (runc's rule, which Docker relies on for its
// overrides), in one pass (a pod's env can hold thousands of service
// variables). env without duplicates comes back as it is.
// Every entry must have a '=' (checkEnv).
func DedupEnv(env []string) []string {
	at := make(map[string]int, len(env))
	var out []string // nil until the first duplicate
	for i, e := range env {
		name := envName(e)
		j, dup := at[name]
		switch {
		case dup && out == nil:
			out = append(make([]string, 0, len(env)), env[:i]...)
			out[j] = e
		case dup:
			out[j] = e
		case out == nil:
			at[name] = i // out, once made, starts as env[:i]
		default:
			at[name] = len(out)
			out = append(out, e)
		}
	}
	if out == nil {
		return env
	}
	return out
}

func envName(e string) string {
	name, _, _ := strings.Cut(e, "=")
	return name
}
