// Drives the AWS SDK for JavaScript v2 (npm aws-sdk@2) against photosift, as apps that use it call Rekognition, and
// prints one JSON object of results. Usage: node rekognition_sdk_v2.mjs CONFIG.json (written by test_js_sdk.py)
// CONFIG: {endpoint, s3Endpoint, region, accessKeyId, secretAccessKey, bucket, faceObject, faceImagePath}
//   endpoint: photosift with a local store; s3Endpoint: photosift whose S3Objects are in a real S3 (moto)
import { readFileSync } from "node:fs";
import AWS from "aws-sdk";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

function client(endpoint, secretAccessKey = config.secretAccessKey) {
  return new AWS.Rekognition({
    endpoint,
    region: config.region,
    credentials: new AWS.Credentials(config.accessKeyId, secretAccessKey),
    maxRetries: 0,
  });
}

// The result of one call, with the headers it was sent with (to show what the SDK signed).
async function attempt(request) {
  let sent = {};
  request.on("sign", (r) => { sent = { ...r.httpRequest.headers }; });
  try {
    return { ok: true, output: await request.promise(), sent };
  } catch (err) {
    return { ok: false, code: err.code, status: err.statusCode, message: err.message, sent };
  }
}

// A request whose X-Amz-Target is left out of the signature and added once it is signed (listeners added with
// request.on run after the SDK's own: "afterBuild" before signing, "sign" after it).
function unsignedTarget(request) {
  let target;
  request.on("afterBuild", (r) => {
    target = r.httpRequest.headers["X-Amz-Target"];
    delete r.httpRequest.headers["X-Amz-Target"];
  });
  request.on("sign", (r) => { r.httpRequest.headers["X-Amz-Target"] = target; });
  return request;
}

const rek = client(config.endpoint);
const s3rek = client(config.s3Endpoint);
const bytes = { Bytes: readFileSync(config.faceImagePath) };
const s3 = { S3Object: { Bucket: config.bucket, Name: config.faceObject } };
const results = {};

results.DetectFaces_Bytes = await attempt(rek.detectFaces({ Image: bytes, Attributes: ["ALL"] }));
results.DetectFaces_S3Object = await attempt(s3rek.detectFaces({ Image: s3 }));
results.CompareFaces_Bytes = await attempt(
  rek.compareFaces({ SourceImage: bytes, TargetImage: bytes, SimilarityThreshold: 80 }));
results.CompareFaces_S3Object = await attempt(s3rek.compareFaces({ SourceImage: s3, TargetImage: bytes }));
results.WrongSecret = await attempt(client(config.endpoint, config.secretAccessKey + "x").detectFaces({ Image: bytes }));
results.UnsignedTarget = await attempt(unsignedTarget(rek.detectFaces({ Image: bytes })));

process.stdout.write(JSON.stringify(results));
