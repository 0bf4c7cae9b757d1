// The charts of the acquisition pages on top of the console's registrations
// (components/charts.ts): lines (success rate by day, a curve as a line) and marked areas (a
// curve's missing intervals).
import { use } from 'echarts/core'
import { LineChart } from 'echarts/charts'
import { MarkAreaComponent, MarkLineComponent } from 'echarts/components'
import '@/components/charts'

use([LineChart, MarkAreaComponent, MarkLineComponent])
