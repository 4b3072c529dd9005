package zkcli

import "testing"

func TestSplitByMarkers(t *testing.T) {
	out := "banner\nNode does not exist: " + markerPrefix + "0\nCreated /a\nWATCHER::\n" +
		"Node does not exist: " + markerPrefix + "1\n\nNode does not exist: " + markerPrefix + "2\n"
	tests := []struct {
		name    string
		n       int
		want    []string
		wantErr bool
	}{
		{"two commands", 2, []string{"Created /a", ""}, false},
		{"missing marker", 3, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitByMarkers(out, tc.n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("splitByMarkers error = %v, wantErr %v", err, tc.wantErr)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("output %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}
