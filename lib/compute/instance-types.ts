import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Architecture, InstanceSize } from '../config/schema';

/**
 * General-purpose x86 families with the same vCPU and memory at each size, so any of them can run the
 * runtime; offering several lets spot's price-capacity-optimized allocation find capacity.
 * Burstable t3 is left out: its CPU credits run out under model inference.
 */
export const CPU_FAMILIES = ['m6i', 'm6a', 'm7i', 'm7a', 'm5', 'm5a'] as const;

/**
 * Graviton (arm64) families offered to spot, each with at least the vCPU and memory of the x86 families at every size
 * (large: 2 vCPU; 8 GiB for m6g, m7g, m6gd, 16 GiB for r6g; each size up doubles both). Sizes from the EC2 User
 * Guide's hardware specification tables (awsdocs/amazon-ec2-user-guide@e3707c43, general-purpose-instances.md and
 * memory-optimized-instances.md). Listed in the order on-demand tries them: general purpose first, local NVMe next,
 * then a memory-optimized pool that widens spot capacity. r7g is left out: it is the dearest of them both on demand
 * and at a typical spot price (ops/data/price-table.json), and the stack does not need its memory. Burstable t4g is
 * left out: its CPU credits under model inference would have to be priced.
 */
export const ARM64_CPU_FAMILIES = ['m6g', 'm7g', 'm6gd', 'r6g'] as const;

/** The families a CPU host of `architecture` is offered, in order of preference for on-demand. */
export function cpuFamilies(architecture: Architecture): readonly string[] {
  return architecture === 'arm64' ? ARM64_CPU_FAMILIES : CPU_FAMILIES;
}

/** The instance types a CPU host of `size` and `architecture` is offered. */
export function cpuInstanceTypes(size: InstanceSize, architecture: Architecture): ec2.InstanceType[] {
  return cpuFamilies(architecture).map((family) => new ec2.InstanceType(`${family}.${size}`));
}
