package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
)

func TestHotfix(t *testing.T) {
	s := build("1.0.0+evacuation0", "1.0.1+evacuation0", "1.1.0+evacuation0").head("stable-1.0", "1.0.0+evacuation0", day(0)).s
	plan, err := s.Hotfix("1.0", false)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Base.Name != name("1.0.0+evacuation0") || plan.Next.String() != "1.0.2+evacuation0" {
		t.Errorf("plan: base %s next %s; want the head and the patch after the newest (1.0.2+evacuation0)", plan.Base.Name, plan.Next)
	}
	if plan, err = s.Hotfix("1.0", true); err != nil || plan.Next.String() != "1.0.2+evacuation1" {
		t.Errorf("disruptive: %v, %v; want 1.0.2+evacuation1", plan.Next, err)
	}
	if _, err := s.Hotfix("1.1", false); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "stable-1.1 has no head") {
		t.Errorf("a line without a head: %v", err)
	}
	ch, err := s.RecordHotfix(s.Images[0], plan, "BUG-42", req(day(1)))
	if err != nil || ch.Marks[0].Marks.HotfixFor != "BUG-42" || ch.Event.Action != catalog.ActionHotfix || !strings.Contains(ch.Event.Reason, "Hotfix-For: BUG-42") {
		t.Errorf("RecordHotfix = %+v, %v", ch, err)
	}
	if _, err := s.RecordHotfix(s.Images[0], plan, "", req(day(1))); err == nil {
		t.Error("a hotfix without --for was recorded")
	}
}

func TestHotfixWithoutDisruptionSerial(t *testing.T) {
	s := build("1.0.0").head("stable-1.0", "1.0.0", day(0)).s
	if plan, err := s.Hotfix("1.0", false); err != nil || plan.Next.String() != "1.0.1" {
		t.Errorf("plain: %v, %v", plan.Next, err)
	}
	if _, err := s.Hotfix("1.0", true); err == nil {
		t.Error("--disruptive on a line without a disruption serial was accepted")
	}
}
