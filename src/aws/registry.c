/*
 * Every AWS-compatible service of the node, in routing order
 * (daemon/edge.c) and for the kinds they add (aws/service.h).
 */
#include "aws/service.h"
#include "lambda/lambda.h"
#include "sts/sts.h"

extern const struct ows_aws_service *const ows_aws_services[];

const struct ows_aws_service *const ows_aws_services[] = {
	&ows_sts_service, &ows_lambda_service, NULL};
