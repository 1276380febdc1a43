// Drives the AWS SDK for JavaScript v3 against a photosift server and prints one JSON object of results.
// Usage: node rekognition_sdk.mjs CONFIG.json   (written by tests/rekognition/test_js_sdk.py)
// CONFIG: {endpoint, region, accessKeyId, secretAccessKey, collectionId, bucket, faceObject, faceImagePath}
import { readFileSync } from "node:fs";
import {
  RekognitionClient,
  DetectFacesCommand,
  CompareFacesCommand,
  CreateCollectionCommand,
  IndexFacesCommand,
  SearchFacesByImageCommand,
} from "@aws-sdk/client-rekognition";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

function client(secretAccessKey) {
  return new RekognitionClient({
    endpoint: config.endpoint,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

const strip = ({ $metadata, ...rest }) => rest;

// A client whose requests leave x-amz-target out of the signature and carry it all the same (added once signed).
function unsignedTarget(rek) {
  let target;
  rek.middlewareStack.addRelativeTo((next) => async (args) => {
    target = args.request.headers["x-amz-target"];
    delete args.request.headers["x-amz-target"];
    return next(args);
  }, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "dropTargetBeforeSigning" });
  rek.middlewareStack.addRelativeTo((next) => async (args) => {
    args.request.headers["x-amz-target"] = target;
    return next(args);
  }, { relation: "after", toMiddleware: "httpSigningMiddleware", name: "addTargetAfterSigning" });
  return rek;
}

async function attempt(fn) {
  try {
    return { ok: true, output: strip(await fn()) };
  } catch (err) {
    return { ok: false, name: err.name, fault: err.$fault, message: err.message, status: err.$metadata?.httpStatusCode };
  }
}

const rek = client(config.secretAccessKey);
const bytes = { Bytes: new Uint8Array(readFileSync(config.faceImagePath)) };
const s3 = { S3Object: { Bucket: config.bucket, Name: config.faceObject } };
const results = {};

results.DetectFaces_Bytes = await attempt(() => rek.send(new DetectFacesCommand({ Image: bytes, Attributes: ["ALL"] })));
results.DetectFaces_S3Object = await attempt(() => rek.send(new DetectFacesCommand({ Image: s3 })));
results.CompareFaces_Bytes = await attempt(() =>
  rek.send(new CompareFacesCommand({ SourceImage: bytes, TargetImage: bytes, SimilarityThreshold: 80 })));
results.CompareFaces_S3Object = await attempt(() =>
  rek.send(new CompareFacesCommand({ SourceImage: s3, TargetImage: s3 })));
results.CreateCollection = await attempt(() => rek.send(new CreateCollectionCommand({ CollectionId: config.collectionId })));
results.IndexFaces_Bytes = await attempt(() =>
  rek.send(new IndexFacesCommand({ CollectionId: config.collectionId, Image: bytes, ExternalImageId: "bytes" })));
results.IndexFaces_S3Object = await attempt(() =>
  rek.send(new IndexFacesCommand({ CollectionId: config.collectionId, Image: s3, ExternalImageId: "s3" })));
results.SearchFacesByImage_Bytes = await attempt(() =>
  rek.send(new SearchFacesByImageCommand({ CollectionId: config.collectionId, Image: bytes, FaceMatchThreshold: 80 })));
results.SearchFacesByImage_S3Object = await attempt(() =>
  rek.send(new SearchFacesByImageCommand({ CollectionId: config.collectionId, Image: s3, MaxFaces: 1 })));
results.WrongSecret = await attempt(() => client(config.secretAccessKey + "x").send(new DetectFacesCommand({ Image: bytes })));
results.UnsignedTarget = await attempt(() =>
  unsignedTarget(client(config.secretAccessKey)).send(new DetectFacesCommand({ Image: bytes })));

process.stdout.write(JSON.stringify(results));
