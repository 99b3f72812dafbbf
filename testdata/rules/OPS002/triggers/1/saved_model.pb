Ë

v2.21.0"serve*2.21.0´
7
xPlaceholder*
dtype0*
shape:ÿÿÿÿÿÿÿÿÿ
+
numberStringToNumberx*
out_type0
=
shapeConst*
dtype0* 
valueB:ÿÿÿÿÿÿÿÿÿ
$
yReshapenumbershape*
T0
*
tokensWhitespaceTokenizeWithOffsetsx
6
	tokens_v2&TFText>WhitespaceTokenizeWithOffsetsV2x"Ú*x
serving_defaulte
 
inputs
x:0ÿÿÿÿÿÿÿÿÿ%
outputs
y:0ÿÿÿÿÿÿÿÿÿtensorflow/serving/predict