package podenv

import "testing"

func TestExpand(t *testing.T) {
	env := map[string]string{"VAR_A": "A", "VAR_B": "B", "EMPTY": "", "REF": "$(VAR_A)"}
	tests := []struct {
		in, want string
	}{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "$(VAR_A)", want: "A"},
		{in: "___$(VAR_A)___$(VAR_B)", want: "___A___B"},
		{in: "$(VAR_A)$(VAR_B)", want: "AB"},
		{in: "$(EMPTY)x", want: "x"},
		{in: "$(UNKNOWN)", want: "$(UNKNOWN)"},
		{in: "$$(VAR_A)", want: "$(VAR_A)"},
		{in: "$$$(VAR_A)", want: "$A"},
		{in: "$$$$(VAR_A)", want: "$$(VAR_A)"},
		{in: "$VAR_A", want: "$VAR_A"},
		{in: "trailing $", want: "trailing $"},
		{in: "$(", want: "$("},
		{in: "$(VAR_A", want: "$(VAR_A"},
		{in: "$($(VAR_A)", want: "$($(VAR_A)"}, // the name runs to the first ")"
		{in: "$($$", want: "$($"},              // unterminated: scanning goes on
		{in: "$()", want: "$()"},
		{in: "$(REF)", want: "$(VAR_A)"}, // no recursive expansion
		{in: "$(VAR_A$(VAR_B))", want: "$(VAR_A$(VAR_B))"},
		{in: "ünï$(VAR_A)cødé", want: "ünïAcødé"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Expand(tt.in, env); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
