Ö

v2.21.0"serve*2.21.0¿
7
xPlaceholder*
dtype0*
shape:ÿÿÿÿÿÿÿÿÿ
p
StatefulPartitionedCallStatefulPartitionedCallx*
Tin
2*
Tout
2*
fR
__inference_lite_17
=
shapeConst*
dtype0* 
valueB:ÿÿÿÿÿÿÿÿÿ
5
yReshapeStatefulPartitionedCallshape*
T0–
“
%
__inference_lite_17
s
out+
numberStringToNumbers*
out_type0&
innerIdentity
number:y:0*
T0"
outinner:output:0"Ú*x
serving_defaulte
 
inputs
x:0ÿÿÿÿÿÿÿÿÿ%
outputs
y:0ÿÿÿÿÿÿÿÿÿtensorflow/serving/predict