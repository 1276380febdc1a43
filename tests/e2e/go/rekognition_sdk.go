// Command rekognition_sdk drives the AWS SDK for Go v1 against photosift and prints one JSON object of results.
//
// Usage: go run rekognition_sdk.go CONFIG.json (built offline in GOPATH mode by tests/rekognition/test_go_sdk.py,
// against Debian's golang-github-aws-aws-sdk-go-dev).
// CONFIG: {endpoint, s3Endpoint, region, accessKeyId, secretAccessKey, bucket, faceObject, faceImagePath}
//
//	endpoint: photosift with a local store; s3Endpoint: photosift whose S3Objects are in a real S3 (moto)
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/private/protocol/json/jsonutil"
	"github.com/aws/aws-sdk-go/service/rekognition"
)

type config struct {
	Endpoint        string `json:"endpoint"`
	S3Endpoint      string `json:"s3Endpoint"`
	Region          string `json:"region"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Bucket          string `json:"bucket"`
	FaceObject      string `json:"faceObject"`
	FaceImagePath   string `json:"faceImagePath"`
}

// result of one call: its output as AWS JSON, or its error; and the Authorization header it was sent with.
type result struct {
	OK            bool            `json:"ok"`
	Output        json.RawMessage `json:"output,omitempty"`
	Code          string          `json:"code,omitempty"`
	Status        int             `json:"status,omitempty"`
	Message       string          `json:"message,omitempty"`
	Authorization string          `json:"authorization"`
	Target        string          `json:"target"`
}

func client(cfg config, endpoint, secret string) *rekognition.Rekognition {
	sess := session.Must(session.NewSession(&aws.Config{
		Endpoint:    aws.String(endpoint),
		Region:      aws.String(cfg.Region),
		Credentials: credentials.NewStaticCredentials(cfg.AccessKeyID, secret, ""),
		MaxRetries:  aws.Int(0),
	}))
	return rekognition.New(sess)
}

// unsignedTarget makes req leave X-Amz-Target out of its signature and send it all the same.
func unsignedTarget(req *request.Request) {
	var target string
	req.Handlers.Sign.PushFront(func(r *request.Request) {
		target = r.HTTPRequest.Header.Get("X-Amz-Target")
		r.HTTPRequest.Header.Del("X-Amz-Target")
	})
	req.Handlers.Sign.PushBack(func(r *request.Request) { r.HTTPRequest.Header.Set("X-Amz-Target", target) })
}

func send(req *request.Request, output interface{}) result {
	err := req.Send()
	res := result{
		Authorization: req.HTTPRequest.Header.Get("Authorization"),
		Target:        req.HTTPRequest.Header.Get("X-Amz-Target"),
	}
	if err != nil {
		var failure awserr.RequestFailure
		if errors.As(err, &failure) {
			res.Code, res.Status, res.Message = failure.Code(), failure.StatusCode(), failure.Message()
		} else {
			res.Message = err.Error()
		}
		return res
	}
	body, err := jsonutil.BuildJSON(output)
	if err != nil {
		res.Message = err.Error()
		return res
	}
	res.OK, res.Output = true, body
	return res
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	face, err := os.ReadFile(cfg.FaceImagePath)
	if err != nil {
		return err
	}
	rek := client(cfg, cfg.Endpoint, cfg.SecretAccessKey)
	s3rek := client(cfg, cfg.S3Endpoint, cfg.SecretAccessKey)
	bytes := &rekognition.Image{Bytes: face}
	s3 := &rekognition.Image{S3Object: &rekognition.S3Object{Bucket: aws.String(cfg.Bucket),
		Name: aws.String(cfg.FaceObject)}}
	results := map[string]interface{}{"SDKVersion": aws.SDKVersion}

	req, detected := rek.DetectFacesRequest(&rekognition.DetectFacesInput{Image: bytes,
		Attributes: aws.StringSlice([]string{"ALL"})})
	results["DetectFaces_Bytes"] = send(req, detected)
	req, detected = s3rek.DetectFacesRequest(&rekognition.DetectFacesInput{Image: s3})
	results["DetectFaces_S3Object"] = send(req, detected)
	req, compared := rek.CompareFacesRequest(&rekognition.CompareFacesInput{SourceImage: bytes, TargetImage: bytes,
		SimilarityThreshold: aws.Float64(80)})
	results["CompareFaces_Bytes"] = send(req, compared)
	req, compared = s3rek.CompareFacesRequest(&rekognition.CompareFacesInput{SourceImage: s3, TargetImage: bytes})
	results["CompareFaces_S3Object"] = send(req, compared)
	req, detected = client(cfg, cfg.Endpoint, cfg.SecretAccessKey+"x").DetectFacesRequest(
		&rekognition.DetectFacesInput{Image: bytes})
	results["WrongSecret"] = send(req, detected)
	req, detected = rek.DetectFacesRequest(&rekognition.DetectFacesInput{Image: bytes})
	unsignedTarget(req)
	results["UnsignedTarget"] = send(req, detected)

	return json.NewEncoder(os.Stdout).Encode(results)
}
