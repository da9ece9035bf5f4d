package scan

import "testing"

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		secret string
		want   bool
	}{
		{"sk-your-api-key-here", true},
		{"sk-proj-xxxxxxxxxxxxxxxxxxxx", true},
		{"sk-XXXXXXXXXXXXXXXXXXXXXXXX", true},
		{"AIzaSyEXAMPLEkey0123456789", true},
		{"hf_REDACTEDREDACTED", true},
		{"sk-000000000000", true}, // a run of 8
		{"sk-prefake", true},      // a short word at the end
		// A short word inside a random body is chance, not a placeholder.
		{"ABSKQmVkcm9ja0FQSUtleS1fakeGhV3m9Lq2Zt8RkP0sW4yXc", false},
		{"sk-proj-Jq7YourT3BlbkFJ", false},
		{"sk-proj-9fQz2LxW8pMkT3BlbkFJ", false},
	}
	for _, tt := range tests {
		if got := placeholder([]byte(tt.secret)); got != tt.want {
			t.Errorf("placeholder(%q) = %v, want %v", tt.secret, got, tt.want)
		}
	}
}
