import { Command, Option } from 'clipanion';
import { UsageProblem } from '../errors';
import { GmOpsCommand } from './base-command';
import { deploymentNameProblem } from './validators';

export class CostCommand extends GmOpsCommand {
  static paths = [['cost']];

  static usage = Command.Usage({
    description: 'what a deployment costs, or what a synthesized template will cost',
    details: `
      A table per resource in the style of infracost: the host (the spot price now in its AZ, and its on-demand price), its root volume, its public IPv4 address, the EFS file system's metered size, the load balancer, CloudFront, NAT gateways if any, the Secrets Manager secrets. Hourly and monthly totals (730 h), the savings of spot against on-demand, and the host's cost since it launched. Rows that depend on usage (LCUs, EFS elastic throughput, CloudFront traffic) show their price, not a guess of the usage.

      Beside the monthly total (the on-demand ceiling: a spot host at its price now, or offline at its on-demand price) come three all-in figures, on 730 h and a file system of 5 GB for a template (a deployment's metered size otherwise): typical spot (a spot host at the highest dated typical spot price, from the shipped table, of the types its group offers; on-demand for a type the table has no typical price for), on its schedule (only when the group has start/stop scheduled actions: the instance, its root volume and its public IPv4 scaled by the running hours, weekly hours x 730 / 168; the rest whole) and stopped (no host: the file system, the secrets, a load balancer). \`--json\` gives them as typicalSpotMonthlyCost, scheduledMonthlyCost and stoppedMonthlyCost, with the details under scenarios.

      \`--template\` prices synthesized templates before anything is deployed (\`npx cdk synth --quiet\` writes them to cdk.out); repeat it to add the data stack to the compute stack (the scale tier has three: GeuseScale-, GeuseScaleData-, GeuseData-). On the scale tier it prices the ECS services on Fargate (vCPU and memory of each task, by architecture; Fargate Spot at the on-demand Fargate price in the total, at the dated typical Fargate Spot price in the typical-spot figure; one public IPv4 per task), the RDS instance and its gp3 storage (Multi-AZ doubled), the Valkey nodes, the private hosted zone, the alarms and the backlog function's custom metrics; \`--workers N\` prices N running workers (within the scaling bounds; default the desired count). The region is \`--region\`, else AWS_REGION, else us-east-1. It works without AWS credentials.

      Prices come from the AWS Price List API (us-east-1, filtered by the region) and EC2 spot price history, cached on disk (list prices 24 h, spot 10 min; \`--cache-dir\`, GM_OPS_CACHE_DIR, default ~/.cache/geusemaker/prices). When the Price List API fails in any way (no credentials, access denied, network, a timeout, a 5xx, an answer that is not a price list, or no price at all) the shipped price table gives an estimate labelled OFFLINE, with the reason and its "as of" date; offline, a spot host is priced at its on-demand price. The title, the footer and the JSON \`source\` field always say live, cached, offline, or none (nothing priced). A template given twice is priced once.
    `,
    examples: [
      ['What my-stack costs now', '$0 cost my-stack'],
      ['Price the dev tier before deploying it', '$0 cost --template cdk.out/GeuseDev-my-stack.template.json --template cdk.out/GeuseData-my-stack.template.json'],
      ['The scale tier with two workers running (its three stacks)', '$0 cost -t cdk.out/GeuseScale-my-stack.template.json -t cdk.out/GeuseScaleData-my-stack.template.json -t cdk.out/GeuseData-my-stack.template.json --workers 2'],
      ['The same for eu-west-1, from the shipped table only', '$0 cost --template cdk.out/GeuseDev-my-stack.template.json --region eu-west-1 --offline'],
      ['One JSON document (totalMonthlyCost, typicalSpotMonthlyCost, stoppedMonthlyCost, per-component prices)', '$0 cost my-stack --json'],
    ],
  });

  templates = Option.Array('-t,--template', [], { description: 'A synthesized template (cdk.out/<stack>.template.json); repeatable' });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  offline = Option.Boolean('--offline', false, { description: 'Use the shipped price table, do not ask AWS for prices' });

  cache = Option.Boolean('--cache', true, { description: 'Use the price cache (default; --no-cache asks AWS every time)' });

  cacheDir = Option.String('--cache-dir', { description: 'Where the price cache lives (default ~/.cache/geusemaker/prices)' });

  workers = Option.String('--workers', { description: 'Templates of the scale tier: price the workers with this many running tasks (within the scaling bounds; default the desired count)' });

  name = Option.String({ name: 'name', required: false });

  async execute(): Promise<number> {
    if (this.name !== undefined) {
      const problem = deploymentNameProblem(this.name);
      if (problem) throw new UsageProblem(`invalid deployment name: ${problem}`, 'see `gm-ops cost --help`');
    }
    let workers: number | undefined;
    if (this.workers !== undefined) {
      if (!/^\d{1,3}$/.test(this.workers)) throw new UsageProblem(`--workers expects a whole number of running worker tasks, got ${this.workers}`, 'e.g. --workers 2');
      if (this.name !== undefined) throw new UsageProblem('--workers prices templates (--template); a deployment is priced with the workers it runs', 'see `gm-ops cost --help`');
      workers = Number(this.workers);
    }
    const { runCost } = await import('../cost/run');
    const { services } = this.context;
    return runCost(this.io(), {
      name: this.name,
      templates: this.templates,
      json: this.json,
      offline: this.offline,
      cache: this.cache,
      cacheDir: this.cacheDir,
      workers,
      region: this.region,
      env: this.context.env,
      clientsFor: (region) => services.aws({ region, profile: this.profile }),
    });
  }
}
