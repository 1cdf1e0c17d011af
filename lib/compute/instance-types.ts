import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { InstanceSize } from '../config/schema';

/**
 * General-purpose x86 families with the same vCPU and memory at each size, so any of them can run the
 * runtime; offering several lets spot's price-capacity-optimized allocation find capacity.
 * Burstable t3 is left out: its CPU credits run out under model inference.
 */
export const CPU_FAMILIES = ['m6i', 'm6a', 'm7i', 'm7a', 'm5', 'm5a'] as const;

export function cpuInstanceTypes(size: InstanceSize): ec2.InstanceType[] {
  return CPU_FAMILIES.map((family) => new ec2.InstanceType(`${family}.${size}`));
}
