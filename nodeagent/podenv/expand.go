package podenv

import "strings"

// Expand replaces $(VAR) references in s with values from env, as the
// kubelet does for env values, command and args: "$$" is an escaped "$", and a
// reference to an unknown variable or an unterminated "$(" is left as written.
func Expand(s string, env map[string]string) string {
	return ExpandFunc(s, func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
}

// ExpandFunc is Expand with the variables looked up through lookup; a name
// lookup does not know is left as $(name).
func ExpandFunc(s string, lookup func(name string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unterminated: keep "$(" and go on scanning after it, so
				// later references still expand.
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
