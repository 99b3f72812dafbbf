"""TF Serving's REST API in pure Python: request parsing, response writing and signature checks."""

# One module per job; import the one you need (this package imports nothing itself):
#   values       Tensor and Feature, the values a request carries and the runner returns
#   json_io      rapidjson's reader and PrettyWriter, as Serving uses them
#   floats       Serving's float printing (WriteDecimal)
#   json_tensor  JSON values -> tensor values, with Serving's dtype rules and errors
#   requests     predict/classify/regress request bodies -> PredictRequest / ExamplesRequest
#   examples     JSON objects -> tf.Example features and serialized bytes
#   responses    tensors -> the response body Serving would answer
#   api          what Serving's Classify, Regress and Predict APIs require of a signature
#   errors       RequestRejected, ResponseRejected and Serving's inner status
