package conformance

import "testing"

func TestCompress(t *testing.T) {
	run := []string{"6.3.1", "6.3.2", "6.4.1", "6.4.2", "6.4.3", "6.5.1", "6.6.1"}
	pos := map[string]int{}
	for i, id := range run {
		pos[id] = i
	}
	tests := []struct {
		name string
		ids  []string
		want string
	}{
		{"one", []string{"6.4.1"}, "6.4.1"},
		{"two adjacent", []string{"6.3.1", "6.3.2"}, "6.3.1, 6.3.2"},
		{"three adjacent", []string{"6.3.2", "6.4.1", "6.4.2"}, "6.3.2–6.4.2"},
		{"gap", []string{"6.3.1", "6.3.2", "6.4.1", "6.5.1", "6.6.1"}, "6.3.1–6.4.1, 6.5.1, 6.6.1"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compress(tt.ids, pos); got != tt.want {
				t.Errorf("compress(%v) = %q, want %q", tt.ids, got, tt.want)
			}
		})
	}
}
