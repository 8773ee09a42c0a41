/* STS on the seam (aws/service.h): its service table. */
#ifndef OWS_STS_STS_H
#define OWS_STS_STS_H

#include "aws/service.h"

extern const struct ows_aws_service ows_sts_service;

#endif
