package config

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		sec  bool
		want time.Duration
		ok   bool
	}{
		{"60", false, 60 * time.Second, true},
		{"86400", false, 24 * time.Hour, true},
		{"500ms", false, 500 * time.Millisecond, true},
		{"1h 30m", false, 90 * time.Minute, true},
		{"1h30m", false, 90 * time.Minute, true},
		{"1d2h3m4s5ms", false, 26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond, true},
		{"2w", false, 14 * 24 * time.Hour, true},
		{"1m 30", false, 90 * time.Second, true},
		{"0", false, 0, true},
		{"1y", false, 0, false}, // msec directives refuse y and M (ngx_parse_time)
		{"1M", false, 0, false}, //
		{"1y", true, 365 * 24 * time.Hour, true},
		{"1M", true, 30 * 24 * time.Hour, true},
		{"10ms", true, 0, false}, // sec directives refuse ms
		{"30m 1h", false, 0, false},
		{"1h1h", false, 0, false},
		{"10 20", false, 0, false},
		{"10x", false, 0, false},
		{"", false, 0, false},
		{"s", false, 0, false},
		{"-1", false, 0, false},
		{"25d", false, 0, false}, // over 2^31-1 ms
		{"24d", false, 24 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseTime(tt.in, tt.sec)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseTime(%q, %v) = %v, %v; want %v, %v", tt.in, tt.sec, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1000", 1000, true},
		{"4k", 4096, true},
		{"8K", 8192, true},
		{"1m", 1 << 20, true},
		{"10M", 10 << 20, true},
		{"2g", 2 << 30, true},
		{"1G", 1 << 30, true},
		{"1t", 0, false},
		{"k", 0, false},
		{"-1", 0, false},
		{"1.5m", 0, false},
		{"", 0, false},
		{"99999999999999999g", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseSize(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseFlag(t *testing.T) {
	tests := []struct {
		in     string
		on, ok bool
	}{{"on", true, true}, {"off", false, true}, {"ON", true, true}, {"Off", false, true}, {"yes", false, false}, {"", false, false}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			on, ok := ParseFlag(tt.in)
			if on != tt.on || ok != tt.ok {
				t.Errorf("ParseFlag(%q) = %v, %v; want %v, %v", tt.in, on, ok, tt.on, tt.ok)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{{0, "0s"}, {75 * time.Second, "75s"}, {time.Hour, "1h"}, {90 * time.Minute, "1h30m"}, {24 * time.Hour, "1d"}, {1500 * time.Millisecond, "1s500ms"}}
	for _, tt := range tests {
		if got := formatDuration(tt.in); got != tt.want {
			t.Errorf("formatDuration(%v) = %q; want %q", tt.in, got, tt.want)
		}
		if tt.in%time.Millisecond == 0 {
			back, ok := ParseTime(tt.want, false)
			if !ok || back != tt.in {
				t.Errorf("ParseTime(formatDuration(%v)) = %v, %v; want %v, true", tt.in, back, ok, tt.in)
			}
		}
	}
}
