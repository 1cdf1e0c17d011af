import { z } from 'zod';

/**
 * A user's own name for n8n and its certificate, served by CloudFront: the validators every tier with a CloudFront
 * entry shares (schema.ts for automation and gpu, scale-schema.ts for scale). Kept apart from both so neither schema
 * module imports the other's dependents (schema.ts imports scale-schema.ts).
 */

export const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:certificate\/[0-9a-f-]{36}$/;

/**
 * An ACM certificate CloudFront can serve: CloudFront reads viewer certificates from us-east-1 only
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html).
 */
export const cloudFrontCertificateArn = z.string().regex(CERTIFICATE_ARN, {
  message: 'expected an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/<uuid>',
}).superRefine((value, ctx) => {
  const region = value.split(':')[3];
  if (CERTIFICATE_ARN.test(value) && region !== 'us-east-1') {
    ctx.addIssue({ code: 'custom', message: `CloudFront serves ACM certificates from us-east-1 only, this one is in ${region}: request or import it in us-east-1` });
  }
});

/** The user's own name for n8n (the certificate's name), e.g. n8n.example.com; pointed at the distribution by the user's DNS. */
export const domainName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
  message: 'expected a lowercase DNS name such as n8n.example.com',
});

/**
 * The two settings of a tier's options: n8n under the user's own name instead of the distribution's *.cloudfront.net
 * name. Both or neither (load-config refuses one without the other).
 */
export const ownDomainSettings = {
  /** n8n under the user's own name instead of the distribution's *.cloudfront.net name; needs certificateArn. */
  domainName: domainName.optional(),
  /** ACM certificate (us-east-1) for domainName, served by CloudFront; needs domainName. */
  certificateArn: cloudFrontCertificateArn.optional(),
};

/** The CloudFront entry's `domain` for a tier's options: set only when both halves are given. */
export function ownDomain(options: { domainName?: string; certificateArn?: string }): { name: string; certificateArn: string } | undefined {
  return options.domainName && options.certificateArn ? { name: options.domainName, certificateArn: options.certificateArn } : undefined;
}
