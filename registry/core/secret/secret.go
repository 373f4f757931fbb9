// Package secret is the storage of core/v1 Secrets.
package secret

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// MaxSize is the largest total size of a Secret's data (1 MiB).
const MaxSize = 1 << 20

// Resource describes secrets.
var Resource = &store.Resource[*corev1.Secret]{
	Resource:   schema.GroupResource{Resource: "secrets"},
	Kind:       "Secret",
	Namespaced: true,
	New:        func() *corev1.Secret { return &corev1.Secret{} },
	NewList:    func() runtime.Object { return &corev1.SecretList{} },
	PrepareForCreate: func(_ context.Context, s *corev1.Secret) {
		fold(s)
	},
	PrepareForUpdate: func(_ context.Context, s, _ *corev1.Secret) { fold(s) },
	Validate:         func(_ context.Context, s *corev1.Secret) field.ErrorList { return Validate(s) },
	ValidateUpdate: func(_ context.Context, s, old *corev1.Secret) field.ErrorList {
		errs := Validate(s)
		if s.Type != old.Type {
			errs = append(errs, field.Invalid(field.NewPath("type"), s.Type, "field is immutable"))
		}
		if old.Immutable != nil && *old.Immutable {
			if s.Immutable == nil || !*s.Immutable {
				errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
			}
			if !dataEqual(s.Data, old.Data) {
				errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
			}
		}
		return errs
	},
	Fields: map[string]func(*corev1.Secret) string{"type": func(s *corev1.Secret) string { return string(s.Type) }},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Type", Type: "string", Description: corev1.Secret{}.SwaggerDoc()["type"]},
		{Name: "Data", Type: "string", Description: corev1.Secret{}.SwaggerDoc()["data"]},
		store.AgeColumn,
	},
	Row: func(s *corev1.Secret) []any {
		return []any{s.Name, string(s.Type), int64(len(s.Data)), store.Age(s.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// fold moves stringData into data, as upstream does before storing.
func fold(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// Validate checks keys, size and the keys each well-known type requires.
func Validate(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	data := field.NewPath("data")
	size := 0
	for k, v := range s.Data {
		errs = append(errs, validate.Invalid(data.Key(k), k, validation.IsConfigMapKey(k))...)
		size += len(v)
	}
	if size > MaxSize {
		errs = append(errs, field.TooLong(data, "", MaxSize))
	}
	require := func(keys ...string) {
		for _, k := range keys {
			if _, ok := s.Data[k]; !ok {
				errs = append(errs, field.Required(data.Key(k), ""))
			}
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		require(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJson:
		require(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeBasicAuth:
		if len(s.Data[corev1.BasicAuthUsernameKey]) == 0 && len(s.Data[corev1.BasicAuthPasswordKey]) == 0 {
			errs = append(errs, field.Required(data.Key(corev1.BasicAuthUsernameKey), ""), field.Required(data.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(data.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		require(corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	case corev1.SecretTypeOpaque, "":
	default:
		errs = append(errs, validate.Invalid(field.NewPath("type"), s.Type, validation.IsQualifiedName(string(s.Type)))...)
	}
	return errs
}

func dataEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || string(w) != string(v) {
			return false
		}
	}
	return true
}
