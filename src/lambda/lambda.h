/* Lambda on the seam (aws/service.h): its service table. */
#ifndef OWS_LAMBDA_LAMBDA_H
#define OWS_LAMBDA_LAMBDA_H

#include "aws/service.h"

extern const struct ows_aws_service ows_lambda_service;

#endif
