package validate

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestInvalid(t *testing.T) {
	p := field.NewPath("spec", "ports").Index(0).Child("name")
	if errs := Invalid(p, "http", validation.IsDNS1123Label("http")); len(errs) != 0 {
		t.Errorf("valid value gave %v", errs)
	}
	errs := Invalid(p, "Bad_Name", validation.IsDNS1123Label("Bad_Name"))
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeInvalid || errs[0].Field != "spec.ports[0].name" || errs[0].BadValue != "Bad_Name" {
		t.Errorf("got %#v", errs)
	}
}
