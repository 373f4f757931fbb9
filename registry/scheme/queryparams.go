package scheme

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// connectOptions are the core/v1 option kinds that arrive as query
// parameters (pods/log, exec, attach, portforward, proxy; nodes and services proxy).
var connectOptions = []runtime.Object{
	&corev1.PodLogOptions{}, &corev1.PodExecOptions{}, &corev1.PodAttachOptions{},
	&corev1.PodPortForwardOptions{}, &corev1.PodProxyOptions{}, &corev1.NodeProxyOptions{},
	&corev1.ServiceProxyOptions{},
}

// addQueryParameterConversions lets the parameter codec decode those kinds
// from url.Values, reading each field from the query parameter its JSON name gives.
func addQueryParameterConversions(s *runtime.Scheme) error {
	for _, obj := range connectOptions {
		if err := s.AddConversionFunc((*url.Values)(nil), obj, func(a, b interface{}, _ conversion.Scope) error {
			return decodeQuery(*a.(*url.Values), reflect.ValueOf(b).Elem())
		}); err != nil {
			return err
		}
	}
	return nil
}

var timeType = reflect.TypeOf(metav1.Time{})

// decodeQuery sets the exported, JSON-named fields of v from values;
// TypeMeta and unknown parameters are ignored, as upstream's converters do.
func decodeQuery(values url.Values, v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" || f.Anonymous {
			continue
		}
		vals, ok := values[name]
		if !ok || len(vals) == 0 {
			continue
		}
		if err := setField(v.Field(i), vals); err != nil {
			return fmt.Errorf("parameter %q: %w", name, err)
		}
	}
	return nil
}

func setField(fv reflect.Value, vals []string) error {
	if fv.Kind() == reflect.Pointer {
		elem := reflect.New(fv.Type().Elem())
		if err := setField(elem.Elem(), vals); err != nil {
			return err
		}
		fv.Set(elem)
		return nil
	}
	if fv.Type() == timeType {
		ts, err := time.Parse(time.RFC3339, vals[0])
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(metav1.NewTime(ts)))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(vals[0])
	case reflect.Bool:
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(vals[0], 10, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetInt(n)
	case reflect.Slice:
		out := reflect.MakeSlice(fv.Type(), 0, len(vals))
		for _, s := range vals {
			e := reflect.New(fv.Type().Elem()).Elem()
			if err := setField(e, []string{s}); err != nil {
				return err
			}
			out = reflect.Append(out, e)
		}
		fv.Set(out)
	default:
		return fmt.Errorf("unsupported field kind %s", fv.Kind())
	}
	return nil
}
