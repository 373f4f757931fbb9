package serviceaccount

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Issuer signs ServiceAccount tokens.
type Issuer struct {
	// URL is the iss claim (--service-account-issuer).
	URL string
	// Audiences are used when a TokenRequest names none (the API audiences).
	Audiences []string
	Key       crypto.Signer
	// MaxExpiration caps a token's lifetime; 0 means no cap beyond the API's.
	MaxExpiration time.Duration
}

// KeyID is the "kid" of the issuer's key: the unpadded base64url SHA-256 of
// its DER public key, as upstream computes it.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func signatureAlgorithm(k crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch pk := k.Public().(type) {
	case *rsa.PublicKey:
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		switch pk.Curve.Params().BitSize {
		case 256:
			return jose.ES256, nil
		case 384:
			return jose.ES384, nil
		case 521:
			return jose.ES512, nil
		}
	}
	return "", fmt.Errorf("unsupported service account signing key %T", k.Public())
}

// Getters read the objects a token may be bound to.
type Getters struct {
	ServiceAccounts, Pods, Secrets, Nodes rest.Getter
}

// TokenREST serves serviceaccounts/token (TokenRequest).
type TokenREST struct {
	issuer  Issuer
	getters Getters
}

var (
	_ rest.NamedCreater             = &TokenREST{}
	_ rest.GroupVersionKindProvider = &TokenREST{}
)

// NewTokenREST builds the TokenRequest subresource.
func NewTokenREST(issuer Issuer, getters Getters) *TokenREST {
	return &TokenREST{issuer: issuer, getters: getters}
}

func (r *TokenREST) New() runtime.Object { return &authenticationv1.TokenRequest{} }
func (r *TokenREST) Destroy()            {}
func (r *TokenREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
}

const (
	defaultExpiration = 3600
	minExpiration     = 10 * 60
	maxExpiration     = 1 << 32
)

func (r *TokenREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	req := obj.(*authenticationv1.TokenRequest).DeepCopy()
	if req.Spec.ExpirationSeconds == nil {
		e := int64(defaultExpiration)
		req.Spec.ExpirationSeconds = &e
	}
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = r.issuer.Audiences
	}
	if errs := validateTokenRequest(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(authenticationv1.SchemeGroupVersion.WithKind("TokenRequest").GroupKind(), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, req); err != nil {
			return nil, err
		}
	}
	saObj, err := r.getters.ServiceAccounts.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	claims := map[string]any{}
	k8s := map[string]any{
		"namespace":      ns,
		"serviceaccount": map[string]any{"name": sa.Name, "uid": string(sa.UID)},
	}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		bound, err := r.bound(ctx, sa, ref)
		if err != nil {
			return nil, err
		}
		for k, v := range bound {
			k8s[k] = v
		}
	}
	now := time.Now()
	exp := time.Duration(*req.Spec.ExpirationSeconds) * time.Second
	if r.issuer.MaxExpiration > 0 && exp > r.issuer.MaxExpiration {
		exp = r.issuer.MaxExpiration
	}
	claims["kubernetes.io"] = k8s
	std := jwt.Claims{
		Issuer:    r.issuer.URL,
		Subject:   "system:serviceaccount:" + ns + ":" + sa.Name,
		Audience:  jwt.Audience(req.Spec.Audiences),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(exp)),
		ID:        string(uuid.NewUUID()),
	}
	token, err := r.sign(std, claims)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if len(options.DryRun) > 0 {
		token = ""
	}
	req.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(now.Add(exp))}
	return req, nil
}

func (r *TokenREST) sign(std jwt.Claims, private map[string]any) (string, error) {
	alg, err := signatureAlgorithm(r.issuer.Key)
	if err != nil {
		return "", err
	}
	kid, err := KeyID(r.issuer.Key.Public())
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: r.issuer.Key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(std).Claims(private).Serialize()
}

// bound checks the object a token is bound to and returns its claims.
func (r *TokenREST) bound(ctx context.Context, sa *corev1.ServiceAccount, ref *authenticationv1.BoundObjectReference) (map[string]any, error) {
	gr := schema.GroupResource{}
	var getter rest.Getter
	switch ref.Kind {
	case "Pod":
		gr, getter = corev1.Resource("pods"), r.getters.Pods
	case "Secret":
		gr, getter = corev1.Resource("secrets"), r.getters.Secrets
	case "Node":
		gr, getter = corev1.Resource("nodes"), r.getters.Nodes
	}
	if getter == nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of kind %q", ref.Kind))
	}
	if ref.Kind == "Node" {
		ctx = genericapirequest.WithNamespace(ctx, "")
	}
	obj, err := getter.Get(ctx, ref.Name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	meta := obj.(metav1.Object)
	if ref.UID != "" && ref.UID != meta.GetUID() {
		return nil, apierrors.NewConflict(gr, ref.Name, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	ref2 := map[string]any{"name": meta.GetName(), "uid": string(meta.GetUID())}
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.Spec.ServiceAccountName != sa.Name {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", sa.Name))
		}
		out := map[string]any{"pod": ref2}
		if o.Spec.NodeName != "" {
			out["node"] = map[string]any{"name": o.Spec.NodeName}
		}
		return out, nil
	case *corev1.Secret:
		return map[string]any{"secret": ref2}, nil
	default:
		return map[string]any{"node": ref2}, nil
	}
}

func validateTokenRequest(req *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if e := *req.Spec.ExpirationSeconds; e < minExpiration {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), e, "may not specify a duration less than 10 minutes"))
	} else if e > maxExpiration {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), e, "may not specify a duration larger than 2^32 seconds"))
	}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if ref.Name == "" {
			errs = append(errs, field.Required(spec.Child("boundObjectRef", "name"), ""))
		}
		if ref.APIVersion != "" && ref.APIVersion != "v1" {
			errs = append(errs, field.Invalid(spec.Child("boundObjectRef", "apiVersion"), ref.APIVersion, "must be v1"))
		}
	}
	return errs
}
